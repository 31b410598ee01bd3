"""Z-buffer rendering of a mesh under the weak-perspective camera.

One OpenGL pass gives the shaded colour image, the triangle-id map (``gl_PrimitiveID``, exact: no
anti-aliasing touches it) and the depth buffer; the barycentric coordinates, depth map and per-vertex
visibility are then computed exactly in float64 from the triangle ids (paper Sec. III-B needs them
for patch labels, Sec. III-C for visibility).

Engine: OpenGL 3.3 core through OSMesa (Mesa's llvmpipe), with the context that ``pyrender2``'s OSMesa
platform creates. pyrender's own scene renderer draws with 4x MSAA outside its segmentation mode,
which blends triangle ids at edges, and needs one pass per output; a single custom pass with two
colour attachments is exact and faster (``benchmarks/bench_render.py`` measures both).

Headless: set ``PYOPENGL_PLATFORM=osmesa`` before OpenGL is imported (this module does it when unset)
and install Debian's ``libosmesa6``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from dffkit.errors import DffkitError
from dffkit.face.camera import Camera, transform
from dffkit.face.mesh import barycentric_coordinates, barycentric_map, vertex_normals

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

__all__ = ["Light", "Rendering", "Renderer", "barycentric_coordinates", "barycentric_map", "vertex_normals", "DEFAULT_SKIN"]

#: A neutral skin tone, linear RGB in [0, 1], used when no vertex colours are given.
DEFAULT_SKIN = np.array([0.80, 0.62, 0.52], np.float32)
MAX_SIZE = 4096

_VERTEX_SHADER = """#version 330 core
layout(location = 0) in vec3 position;   // x, y image pixels (y down), z towards the viewer
layout(location = 1) in vec3 color;
layout(location = 2) in vec3 normal;     // camera frame: x right, y up, z towards the viewer
layout(location = 3) in vec3 texcoord;   // u, v in the texture image (0..1, v down) and the texture's weight
uniform vec2 size;                        // (W, H)
uniform vec2 zrange;                      // (z_min, z_max) of the vertices
out vec3 v_color;
out vec3 v_normal;
out vec3 v_tex;
void main() {
    v_color = color;
    v_normal = normal;
    v_tex = texcoord;
    float zn = 1.0 - 2.0 * (position.z - zrange.x) / (zrange.y - zrange.x);  // nearer -> smaller
    gl_Position = vec4(2.0 * (position.x + 0.5) / size.x - 1.0,
                       1.0 - 2.0 * (position.y + 0.5) / size.y, zn, 1.0);
}
"""

_FRAGMENT_SHADER = """#version 330 core
in vec3 v_color;
in vec3 v_normal;
in vec3 v_tex;
uniform sampler2D photo;
uniform int textured;
uniform vec3 ambient;
uniform vec3 diffuse;
uniform vec3 light_dir;                   // unit, camera frame, from the surface towards the light
layout(location = 0) out vec4 out_color;
layout(location = 1) out int out_triangle;
void main() {
    vec3 n = normalize(v_normal);
    float lambert = max(dot(n, light_dir), 0.0);
    vec3 base = textured == 1 ? mix(v_color, texture(photo, v_tex.xy).rgb, clamp(v_tex.z, 0.0, 1.0)) : v_color;
    out_color = vec4(clamp(base * (ambient + diffuse * lambert), 0.0, 1.0), 1.0);
    out_triangle = gl_PrimitiveID;
}
"""


@dataclass(frozen=True)
class Light:
    """Ambient plus one directional light, Lambertian shading with the mesh normals.

    Attributes:
        ambient: (3,) RGB ambient intensity.
        diffuse: (3,) RGB intensity of the directional light.
        direction: (3,) direction from the surface towards the light in the camera frame
            (x right, y up, z towards the viewer); normalised on use.
    """

    ambient: tuple[float, float, float] = (0.45, 0.45, 0.45)
    diffuse: tuple[float, float, float] = (0.65, 0.65, 0.65)
    direction: tuple[float, float, float] = (0.3, 0.4, 1.0)

    def __post_init__(self) -> None:
        v = np.r_[self.ambient, self.diffuse, self.direction]
        if v.size != 9 or not np.isfinite(v).all():
            raise DffkitError("light ambient, diffuse and direction must be 3 finite numbers each")
        if np.linalg.norm(self.direction) == 0:
            raise DffkitError("light direction must be non-zero")


@dataclass(frozen=True)
class Rendering:
    """What :meth:`Renderer.render` returns; all maps are (H, W), row 0 at the top.

    Attributes:
        image: (H, W, 3) uint8 RGB, shaded face over the background.
        mask: (H, W) bool, True where a triangle covers the pixel centre.
        triangle_ids: (H, W) int32 index of the visible triangle, −1 on the background.
        barycentrics: (H, W, 3) float32 coordinates of the pixel centre in that triangle (0 on the
            background); Σ = 1, and the pixel's 3D surface point is Σ_k b_k · vertex_k.
        depth: (H, W) float32 camera-frame z of the visible surface point, pixels, larger nearer the
            camera; NaN on the background.
        vertex_visible: (V,) bool z-buffer visibility of each vertex.
        vertices_image: (V, 3) float64 vertices in the image frame (x, y pixels; z as ``depth``).
    """

    image: np.ndarray
    mask: np.ndarray
    triangle_ids: np.ndarray
    barycentrics: np.ndarray
    depth: np.ndarray
    vertex_visible: np.ndarray
    vertices_image: np.ndarray


class Renderer:
    """An offscreen OpenGL renderer (OSMesa); one per process or thread, reused across frames.

    Example:
        >>> from dffkit import load_default_model
        >>> m = load_default_model()
        >>> with Renderer() as r:
        ...     out = r.render(m.mean, m.triangles, Camera(s=7, tx=112, ty=112), size=(224, 224))
        >>> out.image.shape, bool(out.mask.any())
        ((224, 224, 3), True)
    """

    def __init__(self) -> None:
        try:
            from pyrender.platforms.osmesa import OSMesaPlatform
        except Exception as exc:  # ImportError, or OpenGL failing to find libOSMesa
            raise DffkitError(
                f"cannot load the OSMesa renderer ({exc}); install Debian's libosmesa6 and pyrender2, "
                "and set PYOPENGL_PLATFORM=osmesa before importing OpenGL") from None
        self._platform = OSMesaPlatform(8, 8)
        self._platform.init_context()
        self._platform.make_current()
        self._gl_setup()
        self._fbo_size: tuple[int, int] | None = None

    # --- context -----------------------------------------------------------------------------------
    def __enter__(self) -> Renderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the OpenGL context."""
        if getattr(self, "_platform", None) is not None:
            self._platform.make_current()
            self._platform.delete_context()
            self._platform = None

    def _gl_setup(self) -> None:
        from OpenGL import GL

        def compile_shader(src: str, kind: int) -> int:
            sh = GL.glCreateShader(kind)
            GL.glShaderSource(sh, src)
            GL.glCompileShader(sh)
            if not GL.glGetShaderiv(sh, GL.GL_COMPILE_STATUS):
                raise RuntimeError(GL.glGetShaderInfoLog(sh).decode())
            return sh

        prog = GL.glCreateProgram()
        GL.glAttachShader(prog, compile_shader(_VERTEX_SHADER, GL.GL_VERTEX_SHADER))
        GL.glAttachShader(prog, compile_shader(_FRAGMENT_SHADER, GL.GL_FRAGMENT_SHADER))
        GL.glLinkProgram(prog)
        if not GL.glGetProgramiv(prog, GL.GL_LINK_STATUS):
            raise RuntimeError(GL.glGetProgramInfoLog(prog).decode())
        self._prog = prog
        self._uniforms = {n: GL.glGetUniformLocation(prog, n)
                          for n in ("size", "zrange", "ambient", "diffuse", "light_dir", "photo", "textured")}
        self._texture = GL.glGenTextures(1)
        self._vao = GL.glGenVertexArrays(1)
        GL.glBindVertexArray(self._vao)
        self._vbo = GL.glGenBuffers(4)
        self._ebo = GL.glGenBuffers(1)
        self._last_triangles: np.ndarray | None = None
        self._fbo = GL.glGenFramebuffers(1)
        self._rbo = GL.glGenRenderbuffers(3)

    def _ensure_framebuffer(self, h: int, w: int) -> None:
        from OpenGL import GL

        if self._fbo_size == (h, w):
            return
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        for rb, fmt, att in ((self._rbo[0], GL.GL_RGBA8, GL.GL_COLOR_ATTACHMENT0),
                             (self._rbo[1], GL.GL_R32I, GL.GL_COLOR_ATTACHMENT1),
                             (self._rbo[2], GL.GL_DEPTH_COMPONENT32F, GL.GL_DEPTH_ATTACHMENT)):
            GL.glBindRenderbuffer(GL.GL_RENDERBUFFER, rb)
            GL.glRenderbufferStorage(GL.GL_RENDERBUFFER, fmt, w, h)
            GL.glFramebufferRenderbuffer(GL.GL_FRAMEBUFFER, att, GL.GL_RENDERBUFFER, rb)
        if GL.glCheckFramebufferStatus(GL.GL_FRAMEBUFFER) != GL.GL_FRAMEBUFFER_COMPLETE:
            raise RuntimeError("OpenGL framebuffer incomplete")
        GL.glDrawBuffers(2, [GL.GL_COLOR_ATTACHMENT0, GL.GL_COLOR_ATTACHMENT1])
        self._fbo_size = (h, w)

    # --- rendering ---------------------------------------------------------------------------------
    def render(
        self,
        vertices: np.ndarray,
        triangles: np.ndarray,
        camera: Camera,
        size: int | tuple[int, int] = 224,
        colors: np.ndarray | None = None,
        light: Light | None = None,
        background: np.ndarray | None = None,
        visibility_tolerance_cm: float = 0.3,
        texture: np.ndarray | None = None,
        uv: np.ndarray | None = None,
        texture_weight: np.ndarray | None = None,
    ) -> Rendering:
        """Render a mesh seen by a weak-perspective camera.

        Args:
            vertices: (V, 3) model-space vertices, cm.
            triangles: (T, 3) vertex indices, counter-clockwise seen from outside.
            camera: the camera w.
            size: image size, an int for square images or (H, W), pixels.
            colors: (V, 3) per-vertex albedo, RGB in [0, 1] (float) or uint8; None for a skin tone.
            light: lighting; None for the default :class:`Light`.
            background: (H, W, 3) uint8 RGB image behind the face; None for black.
            visibility_tolerance_cm: a vertex counts as visible when it lies at most this far behind
                the z-buffer surface at its pixel (model units, so it holds at any scale).
            texture: (Ht, Wt, 3) uint8 RGB image mapped onto the mesh (e.g. the photo a mesh was lifted
                from, :mod:`dffkit.data.profile`), bilinear; None for vertex colours alone.
            uv: (V, 2) texture coordinates, (x + 0.5) / Wt and (y + 0.5) / Ht of a texture pixel (x, y).
            texture_weight: (V,) how much of each vertex's colour comes from the texture (1) rather than
                from ``colors`` (0), interpolated across triangles; None for 1 everywhere.

        Returns:
            A :class:`Rendering`.
        """
        from OpenGL import GL

        h, w = (size, size) if np.isscalar(size) else tuple(int(x) for x in size)
        if not (1 <= h <= MAX_SIZE and 1 <= w <= MAX_SIZE):
            raise DffkitError(f"image size must be 1..{MAX_SIZE} pixels a side, got {h}x{w}")
        v = np.asarray(vertices, np.float64)
        t = np.ascontiguousarray(triangles, np.uint32)
        if v.ndim != 2 or v.shape[1] != 3 or len(v) == 0:
            raise DffkitError(f"vertices must be (V, 3), got {v.shape}")
        if not np.isfinite(v).all():
            raise DffkitError("vertices contain NaN or infinite values; check the model parameters")
        if t.ndim != 2 or t.shape[1] != 3 or (t.size and t.max() >= len(v)):
            raise DffkitError("triangles must be (T, 3) indices into the vertices")
        light = light or Light()
        if colors is None:
            col = np.broadcast_to(DEFAULT_SKIN, v.shape).astype(np.float32)
        else:
            col = np.asarray(colors)
            col = col.astype(np.float32) / 255.0 if col.dtype == np.uint8 else col.astype(np.float32)
            if col.shape != v.shape:
                raise DffkitError(f"colors must be (V, 3) like the vertices, got {col.shape}")
        if background is not None:
            background = np.asarray(background)
            if background.shape != (h, w, 3) or background.dtype != np.uint8:
                raise DffkitError(f"background must be a ({h}, {w}, 3) uint8 RGB image")

        if texture is not None:
            texture = np.ascontiguousarray(texture)
            if texture.ndim != 3 or texture.shape[2] != 3 or texture.dtype != np.uint8:
                raise DffkitError(f"texture must be an (H, W, 3) uint8 RGB image, got {texture.shape} {texture.dtype}")
            uv = np.asarray(uv, np.float32)
            if uv.shape != (len(v), 2):
                raise DffkitError(f"uv must be (V, 2) like the vertices, got {uv.shape}")
            tw = np.ones(len(v), np.float32) if texture_weight is None else np.asarray(texture_weight, np.float32)
            texcoord = np.c_[uv, tw]
        else:
            texcoord = np.zeros((len(v), 3), np.float32)

        rotated = v @ camera.R.T  # camera frame: x right, y up, z towards the viewer (cm)
        vi = transform(v, camera)
        normals = vertex_normals(rotated, t)

        self._platform.make_current()
        self._ensure_framebuffer(h, w)
        GL.glBindFramebuffer(GL.GL_FRAMEBUFFER, self._fbo)
        GL.glViewport(0, 0, w, h)
        GL.glUseProgram(self._prog)
        GL.glBindVertexArray(self._vao)
        for k, arr in enumerate((vi.astype(np.float32), col, normals, texcoord)):
            arr = np.ascontiguousarray(arr, np.float32)
            GL.glBindBuffer(GL.GL_ARRAY_BUFFER, self._vbo[k])
            GL.glBufferData(GL.GL_ARRAY_BUFFER, arr.nbytes, arr, GL.GL_STREAM_DRAW)
            GL.glEnableVertexAttribArray(k)
            GL.glVertexAttribPointer(k, 3, GL.GL_FLOAT, GL.GL_FALSE, 0, None)
        if self._last_triangles is not t:
            GL.glBindBuffer(GL.GL_ELEMENT_ARRAY_BUFFER, self._ebo)
            GL.glBufferData(GL.GL_ELEMENT_ARRAY_BUFFER, t.nbytes, t, GL.GL_STATIC_DRAW)
            self._last_triangles = t
        zmin, zmax = float(vi[:, 2].min()) - 1.0, float(vi[:, 2].max()) + 1.0
        d = np.asarray(light.direction, np.float64)
        GL.glUniform2f(self._uniforms["size"], w, h)
        GL.glUniform2f(self._uniforms["zrange"], zmin, zmax)
        GL.glUniform3f(self._uniforms["ambient"], *map(float, light.ambient))
        GL.glUniform3f(self._uniforms["diffuse"], *map(float, light.diffuse))
        GL.glUniform3f(self._uniforms["light_dir"], *(d / np.linalg.norm(d)))
        GL.glUniform1i(self._uniforms["textured"], int(texture is not None))
        if texture is not None:
            GL.glActiveTexture(GL.GL_TEXTURE0)
            GL.glBindTexture(GL.GL_TEXTURE_2D, self._texture)
            GL.glPixelStorei(GL.GL_UNPACK_ALIGNMENT, 1)
            GL.glTexImage2D(GL.GL_TEXTURE_2D, 0, GL.GL_RGB8, texture.shape[1], texture.shape[0], 0, GL.GL_RGB,
                            GL.GL_UNSIGNED_BYTE, texture)
            for name, value in ((GL.GL_TEXTURE_MIN_FILTER, GL.GL_LINEAR), (GL.GL_TEXTURE_MAG_FILTER, GL.GL_LINEAR),
                                (GL.GL_TEXTURE_WRAP_S, GL.GL_CLAMP_TO_EDGE), (GL.GL_TEXTURE_WRAP_T, GL.GL_CLAMP_TO_EDGE)):
                GL.glTexParameteri(GL.GL_TEXTURE_2D, name, value)
            GL.glUniform1i(self._uniforms["photo"], 0)
        GL.glEnable(GL.GL_DEPTH_TEST)
        GL.glDepthFunc(GL.GL_LESS)
        GL.glDisable(GL.GL_CULL_FACE)
        GL.glClearBufferfv(GL.GL_COLOR, 0, np.zeros(4, np.float32))
        GL.glClearBufferiv(GL.GL_COLOR, 1, np.array([-1, 0, 0, 0], np.int32))
        GL.glClearBufferfv(GL.GL_DEPTH, 0, np.ones(1, np.float32))
        GL.glDrawElements(GL.GL_TRIANGLES, t.size, GL.GL_UNSIGNED_INT, None)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT0)
        rgba = np.frombuffer(GL.glReadPixels(0, 0, w, h, GL.GL_RGBA, GL.GL_UNSIGNED_BYTE), np.uint8)
        GL.glReadBuffer(GL.GL_COLOR_ATTACHMENT1)
        ids = np.frombuffer(GL.glReadPixels(0, 0, w, h, GL.GL_RED_INTEGER, GL.GL_INT), np.int32)
        rgba = rgba.reshape(h, w, 4)[::-1]
        ids = np.ascontiguousarray(ids.reshape(h, w)[::-1])

        mask = ids >= 0
        bary = barycentric_map(vi, t, ids)
        depth = np.full((h, w), np.nan, np.float32)
        if mask.any():
            corners_z = vi[:, 2][t[ids[mask]]]
            depth[mask] = (corners_z * bary[mask]).sum(axis=1)
        image = np.zeros((h, w, 3), np.uint8) if background is None else background.copy()
        image[mask] = rgba[mask][:, :3]
        visible = _vertex_visibility(vi, t, ids, depth, visibility_tolerance_cm * camera.s)
        return Rendering(image=image, mask=mask, triangle_ids=ids, barycentrics=bary, depth=depth,
                         vertex_visible=visible, vertices_image=vi)


def _vertex_visibility(vi: np.ndarray, triangles: np.ndarray, ids: np.ndarray, depth: np.ndarray,
                       tolerance_px: float) -> np.ndarray:
    """Z-buffer visibility: a vertex is visible when it is a corner of a rendered triangle, or when it
    projects into the image no further than ``tolerance_px`` behind the depth map at its pixel."""
    h, w = ids.shape
    visible = np.zeros(len(vi), bool)
    shown = np.unique(ids[ids >= 0])
    visible[np.asarray(triangles)[shown].reshape(-1)] = True
    col = np.rint(vi[:, 0]).astype(np.int64)
    row = np.rint(vi[:, 1]).astype(np.int64)
    inside = (col >= 0) & (col < w) & (row >= 0) & (row < h)
    zbuf = np.full(len(vi), np.nan)
    zbuf[inside] = depth[row[inside], col[inside]]
    in_front = inside & (np.isnan(zbuf) | (vi[:, 2] >= zbuf - tolerance_px))
    return visible | in_front
