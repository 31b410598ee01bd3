"""Face profiling (Zhu et al., *Face Alignment Across Large Poses: A 3D Solution*, CVPR 2016, Sec. 5):
a photo lifted to 3D and rotated to a new pose, so that the result is still a photograph.

1. **Lift** (:func:`lift_photo`): the fitted face mesh (the face region with its eye and mouth
   interiors) keeps the model's topology, and is textured by the photo where the photo sees it and by
   the symmetric, filled per-vertex texture where it does not. The rest of the image (hair, ears, neck,
   background) becomes a mesh of anchors: a grid over the image plus the outline of the face's mask,
   triangulated together (Delaunay) outside the face. An anchor belongs to the head by
   α = exp(−(d / σ)²), with d its distance from the face and σ = ``falloff`` × the face size; its depth
   falls from the depth of the face outline nearest to it towards the head's centre plane,
   z = α · z_outline + (1 − α) · z_centre.
2. **Rotate** (:func:`profile_view`): the face turns about the model's origin (inside the head) by the
   added yaw, pitch and roll, the model camera becoming R' = R_Δ · R with the same scale; an anchor
   moves by α of that motion, so hair and ears turn with the head while the far background stays where
   it was (the head turns, the room does not). The view is re-framed like a synthetic sample and
   rendered with the photo as its texture, unlit (the photo holds its light).
3. **Fill** what the rotation uncovers: background triangles stretched by the rotation, and pixels the
   photo never covered, are inpainted (``cv2.inpaint``); the far side of the face comes from the
   symmetric texture. :class:`ProfiledView` reports both shares.

The ground truth is exactly that of a rendered sample (camera, p_id, p_exp, the 68 and 160 points with
z-buffer visibility, the triangle-id map over the face); a view with no rotation keeps the photo's own
hand-annotated 68 points. Image frame: x right, y down, pixels; z towards the viewer.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from scipy.spatial import Delaunay, cKDTree

from dffkit.data.sources import FittedSources
from dffkit.errors import DffkitError
from dffkit.face.camera import Camera, angles_from_rotation, project, rotation_matrix
from dffkit.face.model import FaceModel
from dffkit.face.render import Light, Renderer, vertex_normals

__all__ = ["LiftedPhoto", "ProfiledView", "LiftedCache", "lift_photo", "profile_view", "profile_sample", "PROFILE_PARTS"]

#: Model parts that make the lifted face: the face and the interiors seen through its openings.
PROFILE_PARTS = ("face_narrow", "eye_sockets", "eyeballs", "mouth_socket")
UNLIT = Light(ambient=(1.0, 1.0, 1.0), diffuse=(0.0, 0.0, 0.0))


@dataclass(frozen=True)
class LiftedPhoto:
    """A photo lifted to a 3D mesh.

    Attributes:
        photo: (H, W, 3) uint8 the source photo.
        camera: the fitted camera in the photo's frame.
        points: (V + A, 3) camera-frame points s·R·q (x right, y up, z towards the viewer; pixels): the
            model's V vertices, then A anchors.
        triangles: (Tf + Tb, 3) the face's triangles (model vertex indices), then the background's.
        face_triangles: (Tf,) the model triangle index of each face triangle.
        uv: (V + A, 2) texture coordinates of every vertex in the photo.
        weight: (V + A,) 1 where the colour comes from the photo, 0 where from ``colors`` (the face's
            vertices the photo does not see).
        colors: (V + A, 3) uint8 fill colours (the face's symmetric texture; 0 for anchors).
        landmarks: (68, 2) the photo's hand-annotated landmarks, or None.
        follow: (V + A,) how much of the head's rotation each vertex follows: 1 on the face, α for anchors.
        n_model: V.
    """

    photo: np.ndarray
    camera: Camera
    points: np.ndarray
    triangles: np.ndarray
    face_triangles: np.ndarray
    uv: np.ndarray
    weight: np.ndarray
    colors: np.ndarray
    landmarks: np.ndarray | None
    follow: np.ndarray
    n_model: int


@dataclass(frozen=True)
class ProfiledView:
    """One profiled view: the sample's arrays (keyed as :data:`dffkit.data.dataset.SAMPLE_KEYS`, plus
    ``rotation`` and ``annotated``) and how much of it was filled rather than seen.

    Attributes:
        arrays: the sample.
        inpainted: share of the image's pixels inpainted.
        symmetric: share of the face's pixels coloured from the symmetric texture.
    """

    arrays: dict[str, np.ndarray]
    inpainted: float
    symmetric: float


def _face_triangles(model: FaceModel) -> np.ndarray:
    keep = np.zeros(model.n_vertices, bool)
    for part in PROFILE_PARTS:
        if part in model.parts:
            keep[model.vertices_of(part)] = True
    return np.nonzero(keep[model.triangles].all(1))[0]


def lift_photo(photo: np.ndarray, model: FaceModel, p_id: np.ndarray, p_exp: np.ndarray, camera: Camera,
               colors: np.ndarray, renderer: Renderer, landmarks: np.ndarray | None = None, grid: int = 12,
               falloff: float = 0.5) -> LiftedPhoto:
    """Lift a photo to 3D around its fitted face (see the module docstring).

    Args:
        photo: (H, W, 3) uint8 RGB.
        model: the face model.
        p_id, p_exp: the fit's parameters.
        camera: the fit's camera in the photo's frame.
        colors: (V, 3) uint8 the filled per-vertex texture of the fit (:func:`dffkit.face.texture.sample_texture`).
        renderer: a renderer (for the face's mask, depth and visibility in the photo).
        landmarks: (68, 2) the photo's annotation, kept for the unrotated view.
        grid: anchor spacing, pixels of the photo.
        falloff: σ of the anchors' belonging to the head, a share of the face size.
    """
    h, w = photo.shape[:2]
    shape = model.shape(p_id, p_exp)
    face_tris = _face_triangles(model)
    tris = model.triangles[face_tris]
    out = renderer.render(shape, tris, camera, size=(h, w))
    cam_pts = (shape.astype(np.float64) @ camera.R.T) * camera.s  # camera frame, pixels
    img_xy = np.c_[cam_pts[:, 0] + camera.tx, camera.ty - cam_pts[:, 1]]
    mask = out.mask.astype(np.uint8)
    # the face's outline, with the depth the face has there
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        raise DffkitError("the fitted face does not cover the photo; cannot lift it")
    outline = np.concatenate([c[:, 0] for c in contours])[:: max(1, grid // 3)].astype(np.float64)
    zmap = np.where(out.mask, out.depth, np.nan)
    zi = cv2.dilate(np.nan_to_num(zmap, nan=-1e9).astype(np.float32), np.ones((3, 3), np.uint8))
    z_outline = zi[outline[:, 1].astype(int), outline[:, 0].astype(int)].astype(np.float64)
    # anchors on a grid over the photo (and just beyond its border), outside the face
    xs = np.r_[np.arange(-grid, w + grid, grid), w - 1 + grid]
    ys = np.r_[np.arange(-grid, h + grid, grid), h - 1 + grid]
    gx, gy = np.meshgrid(xs.astype(np.float64), ys.astype(np.float64))
    pts = np.stack([gx.ravel(), gy.ravel()], 1)
    ring = cv2.dilate(mask, np.ones((2 * grid // 3 + 1,) * 2, np.uint8))
    inside = np.zeros(len(pts), bool)
    ok = (pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)
    inside[ok] = ring[pts[ok, 1].astype(int), pts[ok, 0].astype(int)] > 0
    pts = pts[~inside]
    face_size = float(np.sqrt(mask.sum()))
    dist, near = cKDTree(outline).query(pts)
    alpha = np.exp(-(dist / (falloff * face_size)) ** 2)
    anchors_xy = np.concatenate([outline, pts])
    anchors_z = np.concatenate([z_outline, alpha * z_outline[near]])  # the model's origin is at depth 0
    follow = np.r_[np.ones(len(shape) + len(outline)), alpha]
    # triangulate anchors and outline together; drop the triangles over the face
    tri = Delaunay(anchors_xy).simplices
    centre = anchors_xy[tri].mean(1)
    c = np.clip(np.round(centre).astype(int), 0, [w - 1, h - 1])
    on_photo = (centre[:, 0] >= 0) & (centre[:, 0] < w) & (centre[:, 1] >= 0) & (centre[:, 1] < h)
    keep = ~(on_photo & (mask[c[:, 1], c[:, 0]] > 0))
    v = len(shape)
    anchors_cam = np.c_[anchors_xy[:, 0] - camera.tx, camera.ty - anchors_xy[:, 1], anchors_z]
    points = np.concatenate([cam_pts, anchors_cam])
    all_xy = np.concatenate([img_xy, anchors_xy])
    uv = ((all_xy + 0.5) / [w, h]).astype(np.float32)
    inside_photo = (img_xy[:, 0] >= 0) & (img_xy[:, 0] <= w - 1) & (img_xy[:, 1] >= 0) & (img_xy[:, 1] <= h - 1)
    # how well the photo sees each vertex: visible, inside it, and facing it (grazing views near the
    # silhouette show the background or hair, so the symmetric texture takes over smoothly there)
    facing = vertex_normals(shape @ camera.R.T, model.triangles)[:, 2]
    seen = np.clip((facing - 0.2) / 0.3, 0.0, 1.0) * (out.vertex_visible & inside_photo)
    weight = np.r_[seen.astype(np.float32), np.ones(len(anchors_xy), np.float32)]
    fill = np.concatenate([np.asarray(colors, np.uint8), np.zeros((len(anchors_xy), 3), np.uint8)])
    return LiftedPhoto(photo=np.ascontiguousarray(photo), camera=camera, points=points,
                       triangles=np.concatenate([tris, tri[keep] + v]).astype(np.int32), face_triangles=face_tris,
                       uv=uv, weight=weight, colors=fill, landmarks=None if landmarks is None else
                       np.asarray(landmarks, np.float64), follow=follow, n_model=len(shape))


def profile_view(lifted: LiftedPhoto, model: FaceModel, renderer: Renderer, p_id: np.ndarray, p_exp: np.ndarray,
                 dyaw: float, dpitch: float = 0.0, droll: float = 0.0, size: int | tuple[int, int] = 224,
                 fill: float = 0.65, shift: tuple[float, float] = (0.0, 0.0), dense_idx: np.ndarray | None = None,
                 stretch: float = 2.5, frame: tuple[float, np.ndarray] | None = None) -> ProfiledView:
    """Rotate a lifted photo and render it framed as a synthetic sample.

    Args:
        lifted: from :func:`lift_photo`.
        model: the face model; p_id, p_exp: the fit's parameters.
        renderer: a renderer.
        dyaw, dpitch, droll: the rotation added to the photo's pose, radians (the new R is R_Δ · R).
        size: output side, or (H, W), pixels.
        fill: the face region's projected extent over the image's shorter side.
        shift: the face centre's offset from the image centre, shares of the shorter side.
        dense_idx: (160,) dense landmark vertices (None: no dense points).
        stretch: background triangles whose area grows by more than this are inpainted.
        frame: (k, b): map the photo by x' = k · x + b into the output instead of framing the face (a
            fixed camera, for video).

    Returns:
        A :class:`ProfiledView`.
    """
    cam = lifted.camera
    rd = rotation_matrix(dpitch, dyaw, droll)
    f = lifted.follow[:, None]
    rot = f * (lifted.points @ rd.T) + (1.0 - f) * lifted.points  # camera frame after the rotation, pixels
    pitch, yaw, roll = angles_from_rotation(rd @ cam.R)
    h, w = (size, size) if np.isscalar(size) else (int(size[0]), int(size[1]))
    if frame is None:  # frame the rotated face region in the output image (as frame_camera does for renders)
        region = model.region()
        xy = np.c_[rot[region, 0] + cam.tx, cam.ty - rot[region, 1]]
        lo, hi = xy.min(0), xy.max(0)
        k = fill * min(h, w) / float(max((hi - lo).max(), 1e-9))
        b = np.array([(w - 1) / 2, (h - 1) / 2]) + np.asarray(shift) * min(h, w) - k * (lo + hi) / 2
    else:
        k, b = float(frame[0]), np.asarray(frame[1], np.float64)
    view_cam = Camera(s=k * cam.s, pitch=0.0, yaw=0.0, roll=0.0, tx=k * cam.tx + b[0], ty=k * cam.ty + b[1])
    # the background is drawn behind the face wherever they overlap (weak perspective: z moves no pixel)
    n_model = lifted.n_model
    depth_push = np.zeros(len(rot))
    depth_push[n_model:] = np.ptp(rot[:n_model, 2]) + np.ptp(rot[:, :2])
    out = renderer.render((rot - depth_push[:, None] * [0, 0, 1]) / cam.s, lifted.triangles, view_cam, size=(h, w),
                          colors=lifted.colors, light=UNLIT, texture=lifted.photo, uv=lifted.uv,
                          texture_weight=lifted.weight)
    n_face = len(lifted.face_triangles)
    ids = out.triangle_ids
    face_px = (ids >= 0) & (ids < n_face)
    tri_ids = np.where(face_px, lifted.face_triangles[np.clip(ids, 0, n_face - 1)], -1).astype(np.int32)
    # what the rotation uncovered: stretched background triangles, and pixels outside the lifted photo
    src = np.c_[lifted.points[:, 0] + cam.tx, cam.ty - lifted.points[:, 1]]
    dst = out.vertices_image[:, :2]
    t = lifted.triangles[n_face:]

    def area(p: np.ndarray) -> np.ndarray:
        a, b2, c = p[t[:, 0]], p[t[:, 1]], p[t[:, 2]]
        return 0.5 * np.abs((b2[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (c[:, 0] - a[:, 0]) * (b2[:, 1] - a[:, 1]))

    grown = area(dst) > stretch * np.maximum(area(src) * k * k, 1e-9)
    bad_ids = n_face + np.nonzero(grown)[0]
    hole = ~out.mask | np.isin(ids, bad_ids)
    image = out.image
    if hole.any():
        image = cv2.inpaint(image, hole.astype(np.uint8), 3, cv2.INPAINT_TELEA)
    # the face pixels coloured from the symmetric texture: their interpolated photo weight is under 1/2
    wt = np.zeros(ids.shape)
    if face_px.any():
        corners = lifted.triangles[ids[face_px]]
        wt[face_px] = np.einsum("nk,nk->n", out.barycentrics[face_px], lifted.weight[corners])
    new_cam = Camera(s=k * cam.s, pitch=pitch, yaw=yaw, roll=roll, tx=k * cam.tx + b[0], ty=k * cam.ty + b[1])
    shape = model.shape(p_id, p_exp)
    annotated = lifted.landmarks is not None and dyaw == 0.0 and dpitch == 0.0 and droll == 0.0
    lm = lifted.landmarks * k + b if annotated else project(shape[model.landmarks68], new_cam)
    vis = out.vertex_visible
    arrays = {"image": image, "p_id": np.asarray(p_id, np.float32), "p_exp": np.asarray(p_exp, np.float32),
              "camera": new_cam.to_vector(), "landmarks68": lm.astype(np.float32),
              "visible68": vis[model.landmarks68], "triangle_ids": tri_ids,
              "rotation": np.float32(np.degrees(dyaw)), "annotated": np.bool_(annotated)}
    if dense_idx is not None:
        arrays.update(dense=project(shape[dense_idx], new_cam).astype(np.float32), visible_dense=vis[dense_idx])
    return ProfiledView(arrays=arrays, inpainted=float(hole.mean()),
                        symmetric=float((wt[face_px] < 0.5).mean()) if face_px.any() else 0.0)


def profile_sample(index: int, seed: int, model: FaceModel, renderer: Renderer, sources: FittedSources,
                   cfg, dense_idx: np.ndarray, lifted) -> dict[str, np.ndarray]:
    """Sample ``index`` of a profiled dataset with ``seed``: a pure function of (seed, index) and the sources.

    A share ``cfg.keep_photo`` of the samples is the source photo itself, unrotated, with its own
    hand-annotated 68 points; the others turn it to a yaw drawn uniformly in ``cfg.yaw_deg``, within
    ``cfg.max_rotation_deg`` degrees of the photo's own, and away from the frontal view (a photo turned to
    one side does not show the other: it turns back towards frontal by at most ``cfg.toward_frontal_deg``
    degrees), with a pitch and roll change drawn in ±``cfg.profile_tilt_deg`` degrees. This is the 300W-LP
    recipe: the photo is profiled towards larger yaws. Then the colour, blur and noise augmentation
    of rendered samples (:func:`dffkit.data.synth.augment`).

    Args:
        sources: the fitted sources, with their ``landmarks``.
        cfg: a :class:`dffkit.data.synth.SynthConfig`.
        lifted: callable k -> :class:`LiftedPhoto` of source k.
    """
    from dffkit.data.synth import augment

    rng = np.random.default_rng([seed, index])
    src = int(rng.integers(len(sources)))
    source_yaw = float(sources.yaw_deg()[src])
    if rng.random() < cfg.keep_photo:
        dyaw = dpitch = droll = 0.0
    else:  # away from the frontal view (the photo shows that side), or back towards it by a little
        lo, hi = cfg.yaw_deg
        if source_yaw > cfg.toward_frontal_deg:
            lo = source_yaw - cfg.toward_frontal_deg
        elif source_yaw < -cfg.toward_frontal_deg:
            hi = source_yaw + cfg.toward_frontal_deg
        lo, hi = max(lo, source_yaw - cfg.max_rotation_deg), min(hi, source_yaw + cfg.max_rotation_deg)
        dyaw = np.radians(float(rng.uniform(lo, max(lo, hi))) - source_yaw)
        dpitch, droll = np.radians(rng.uniform(-cfg.profile_tilt_deg, cfg.profile_tilt_deg, 2))
    fill = float(rng.uniform(*cfg.fill))
    shift = tuple(rng.uniform(-cfg.shift, cfg.shift, 2))
    view = profile_view(lifted(src), model, renderer, sources.p_id[src], sources.p_exp[src], dyaw, float(dpitch),
                        float(droll), size=cfg.size, fill=fill, shift=shift, dense_idx=dense_idx)
    arrays = dict(view.arrays)
    arrays["image"] = augment(arrays["image"], rng, cfg)
    return {"index": index, "source": src, **arrays}


class LiftedCache:
    """Callable k -> :class:`LiftedPhoto` of source k, lifted on first use, a few kept in memory."""

    def __init__(self, model: FaceModel, renderer: Renderer, sources: FittedSources, photos, keep: int = 32):
        self.model, self.renderer, self.sources, self.photos, self.keep = model, renderer, sources, photos, keep
        self._lifted: dict[int, LiftedPhoto] = {}

    def __call__(self, k: int) -> LiftedPhoto:
        if k not in self._lifted:
            if len(self._lifted) >= self.keep:
                self._lifted.pop(next(iter(self._lifted)))
            s = self.sources
            self._lifted[k] = lift_photo(self.photos(k), self.model, s.p_id[k], s.p_exp[k], s.camera_of(k),
                                         s.colors[k], self.renderer, landmarks=s.landmarks[k])
        return self._lifted[k]
