"""The reconstructed face as 3D data (the paper's Fig. 11, "Ours-3D"): every alignment carries a whole face
(p_id, p_exp and the camera), and this module turns it into what 3D users want.

* :func:`face_mesh`: the posed mesh in the image frame, every vertex's 2D projection and z-buffer
  visibility, and per-vertex colours from the photo (seen vertices sampled, the rest filled as synthesis
  does: their mirror vertex, then a harmonic fill, :mod:`dffkit.face.texture`);
* :func:`depth_map` and :func:`pncc_map`: image-size maps from the renderer; PNCC (Zhu et al. 2016) colours
  each pixel by its surface point's place in the mean face, normalised to [0, 1] per axis;
* the head pose: ``alignment.camera.R`` (R = Rx(pitch)·Ry(yaw)·Rz(roll), :mod:`dffkit.face.camera`) and
  ``alignment.pose`` in degrees.

Image frame: x right and y down, pixels; z = s·(R q)_z, pixels, larger nearer the camera.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from dffkit.alignment.cascade import Alignment
from dffkit.face.model import FaceModel
from dffkit.face.render import Light, Renderer
from dffkit.face.texture import mirror_vertices, sample_texture, vertex_graph
from dffkit.images import to_rgb_uint8

__all__ = ["FaceMesh", "face_mesh", "depth_map", "pncc_map", "pncc_colors", "write_mesh", "mesh_file_vertices", "MESH_SUFFIXES"]

UNLIT = Light(ambient=(1.0, 1.0, 1.0), diffuse=(0.0, 0.0, 0.0))


@dataclass(frozen=True)
class FaceMesh:
    """One reconstructed face in the image frame.

    Attributes:
        vertices: (V, 3) float64 x, y (pixels, y down) and depth z (pixels, larger nearer) of every model vertex.
        triangles: (T, 3) int32 the model's triangles.
        visible: (V,) bool z-buffer visibility of each vertex in the photo.
        colors: (V, 3) uint8 RGB from the photo where seen, filled elsewhere.
        seen: (V,) bool the vertices coloured from the photo.

    Example:
        >>> from dffkit.examples import aligned
        >>> from dffkit.face.model import load_default_model
        >>> model, (image, a) = load_default_model(), aligned()
        >>> with Renderer() as r:
        ...     mesh = face_mesh(a, image, model, r)
        >>> bool(mesh.seen.mean() > 0.2), bool(np.abs(mesh.points_2d[model.landmarks68] - a.model_landmarks).max() < 1e-3)
        (True, True)
    """

    vertices: np.ndarray
    triangles: np.ndarray
    visible: np.ndarray
    colors: np.ndarray
    seen: np.ndarray

    @property
    def points_2d(self) -> np.ndarray:
        """(V, 2) every vertex's projection, pixels."""
        return self.vertices[:, :2]


@lru_cache(maxsize=4)
def _texture_graph(model: FaceModel):
    return vertex_graph(model), mirror_vertices(model)


def face_mesh(alignment: Alignment, image: np.ndarray, model: FaceModel, renderer: Renderer) -> FaceMesh:
    """The posed, photo-coloured mesh of an aligned face.

    Args:
        alignment: from :func:`dffkit.align` (on this image).
        image: (H, W, 3) the photo it was aligned in.
        model: the face model the alignment used.
        renderer: a renderer (for the z-buffer).

    Example:
        >>> from dffkit import load_default_model
        >>> from dffkit.examples import aligned
        >>> image, a = aligned(2)
        >>> with Renderer() as r:
        ...     colors = face_mesh(a, image, load_default_model(), r).colors
        >>> colors.dtype
        dtype('uint8')
    """
    img = to_rgb_uint8(image)
    shape = alignment.shape(model)
    graph, mirror = _texture_graph(model)
    colors, seen = sample_texture(img, model, shape, alignment.camera, renderer, graph, mirror)
    out = renderer.render(shape, model.triangles, alignment.camera, size=img.shape[:2])
    return FaceMesh(vertices=out.vertices_image, triangles=np.asarray(model.triangles, np.int32),
                    visible=out.vertex_visible, colors=colors, seen=seen)


def depth_map(alignment: Alignment, model: FaceModel, renderer: Renderer, size: tuple[int, int]) -> np.ndarray:
    """(H, W) float32 depth of the face at every pixel (z, pixels, larger nearer), NaN off the face.

    Example:
        >>> from dffkit.examples import aligned
        >>> image, a = aligned()
        >>> with Renderer() as r:
        ...     d = depth_map(a, __import__("dffkit").load_default_model(), r, image.shape[:2])
        >>> bool(0.05 < np.isfinite(d).mean() < 0.95)
        True
    """
    return renderer.render(alignment.shape(model), model.triangles, alignment.camera, size=size).depth


@lru_cache(maxsize=4)
def pncc_colors(model: FaceModel) -> np.ndarray:
    """(V, 3) float32 the normalised coordinate code: the mean shape's x, y, z scaled to [0, 1] over the
    face region (clipped outside it).

    Example:
        >>> from dffkit.face.model import load_default_model
        >>> c = pncc_colors(load_default_model())
        >>> float(c.min()), float(c.max())
        (0.0, 1.0)
    """
    region = model.region("face")
    lo, hi = model.mean[region].min(0), model.mean[region].max(0)
    return np.clip((model.mean - lo) / (hi - lo), 0.0, 1.0).astype(np.float32)


def pncc_map(alignment: Alignment, model: FaceModel, renderer: Renderer, size: tuple[int, int]) -> np.ndarray:
    """(H, W, 3) uint8 the PNCC image of the face (black off the face).

    Example:
        >>> from dffkit.examples import aligned
        >>> image, a = aligned(1)
        >>> with Renderer() as r:
        ...     code = pncc_map(a, __import__("dffkit").load_default_model(), r, image.shape[:2])
        >>> code.shape == image.shape
        True
    """
    out = renderer.render(alignment.shape(model), model.triangles, alignment.camera, size=size,
                          colors=pncc_colors(model), light=UNLIT)
    return np.where(out.mask[..., None], out.image, 0).astype(np.uint8)


MESH_SUFFIXES = (".ply", ".obj")


def mesh_file_vertices(mesh: FaceMesh, image_height: int) -> np.ndarray:
    """(V, 3) the vertices as a mesh file holds them: (x, H − 1 − y, z), image pixels with y up, so that the
    file is right-handed and, seen from +z, overlays the photo.

    Example:
        >>> m = FaceMesh(np.array([[10.0, 20.0, 5.0]]), np.zeros((0, 3), np.int32), np.ones(1, bool),
        ...              np.zeros((1, 3), np.uint8), np.ones(1, bool))
        >>> mesh_file_vertices(m, 100).tolist()
        [[10.0, 79.0, 5.0]]
    """
    v = np.asarray(mesh.vertices, np.float64)
    return np.c_[v[:, 0], image_height - 1 - v[:, 1], v[:, 2]]


def write_mesh(path, mesh: FaceMesh, image_height: int):
    """Write a vertex-coloured PLY or OBJ through open3d (vertex normals computed, degenerate triangles
    dropped, vertex order kept so that model indices such as ``model.landmarks68`` still apply).

    Returns:
        The path written.

    Raises:
        DffkitError: an unknown suffix or a path open3d cannot write.

    Example:
        >>> import tempfile
        >>> from pathlib import Path
        >>> m = FaceMesh(np.array([[0.0, 0, 0], [10, 0, 0], [0, 10, 0]]), np.array([[0, 1, 2]], np.int32),
        ...              np.ones(3, bool), np.full((3, 3), 200, np.uint8), np.ones(3, bool))
        >>> with tempfile.TemporaryDirectory() as d:
        ...     write_mesh(Path(d) / "face.ply", m, 20).stat().st_size > 0
        True
    """
    from pathlib import Path

    from dffkit.atomic import atomic_path
    from dffkit.errors import DffkitError
    from dffkit.stdio import captured_stderr

    p = Path(path)
    if p.suffix.lower() not in MESH_SUFFIXES:
        raise DffkitError(f"{p}: a mesh must end in {' or '.join(MESH_SUFFIXES)}")
    import open3d as o3d

    m = o3d.geometry.TriangleMesh(o3d.utility.Vector3dVector(mesh_file_vertices(mesh, image_height)),
                                  o3d.utility.Vector3iVector(np.array(mesh.triangles, np.int32)))
    m.vertex_colors = o3d.utility.Vector3dVector(mesh.colors.astype(np.float64) / 255.0)
    m.remove_degenerate_triangles()
    m.compute_vertex_normals()
    m.triangle_normals = o3d.utility.Vector3dVector(np.zeros((0, 3)))  # per-vertex normals only (OBJ has no others)
    with atomic_path(p) as tmp, captured_stderr():  # written whole, then renamed; open3d's own warnings kept off
        if not o3d.io.write_triangle_mesh(str(tmp), m, write_ascii=p.suffix.lower() == ".obj"):
            raise DffkitError(f"{p}: open3d could not write the mesh; choose another output path")
    return p
