"""Ground-truth correspondence between two rendered views of one face.

Both views share the mesh topology. A source pixel lies on triangle t with barycentric coordinates b
(from the triangle-id map and the view's shape and camera); the same surface point in the other view
is Σ_k b_k · vertex_k of triangle t there, projected with that view's camera. It has a true match only
when it is visible there: the other view's z-buffer shows that triangle, a neighbour of it, or a
surface no nearer than ``depth_tol`` pixels in front of it.

A view is anything with ``p_id``, ``p_exp``, ``camera`` (a :class:`dffkit.face.camera.Camera`) and ``triangle_ids`` (H, W), such as
:class:`dffkit.data.dataset.Sample`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from dffkit.errors import DffkitError
from dffkit.face.camera import Camera, transform
from dffkit.face.model import FaceModel
from dffkit.face.render import barycentric_coordinates

__all__ = ["Correspondence", "true_matches", "surface_at", "surface_points", "view_angle"]


@dataclass(frozen=True)
class Correspondence:
    """The true matches of N source points.

    Attributes:
        target: (N, 2) the source surface point projected into the target view, pixels (NaN off the face).
        on_face: (N,) bool, the source point lies on the rendered face.
        visible: (N,) bool, its surface point is visible in the target view (a true match exists).
        surface: (N, 3) the surface point in the target view's shape, model space, cm (NaN off the face).

    Example:
        >>> from dffkit.data.synth import example_samples
        >>> from dffkit.face.model import load_default_model
        >>> from dffkit.matching.match import mask_points
        >>> a, b = example_samples(2, size=96)
        >>> c = true_matches(load_default_model(), a, b, mask_points(a.triangle_ids >= 0, stride=4))
        >>> bool(c.on_face.all()), bool(0.0 < c.visible.mean() <= 1.0)
        (True, True)
    """

    target: np.ndarray
    on_face: np.ndarray
    visible: np.ndarray
    surface: np.ndarray


def _vertices_image(model: FaceModel, view) -> np.ndarray:
    return transform(model.shape(view.p_id, view.p_exp), view.camera)


def _pixel_triangles(ids: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Triangle id under each (x, y) point (nearest pixel), −1 outside the image or on the background."""
    h, w = ids.shape
    c = np.rint(points).astype(np.int64)
    inside = (c[:, 0] >= 0) & (c[:, 0] < w) & (c[:, 1] >= 0) & (c[:, 1] < h)
    out = np.full(len(points), -1, np.int64)
    out[inside] = ids[c[inside, 1], c[inside, 0]]
    return out


def surface_at(model: FaceModel, view, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The surface under image points of a view.

    Args:
        points: (N, 2) pixels.

    Returns:
        (triangles (N,) int64, the triangle at each point's nearest pixel, −1 off the face; barycentrics
        (N, 3) of the points in them, clipped onto the triangle; NaN off the face).

    Example:
        >>> from dffkit.data.synth import example_samples
        >>> from dffkit.face.model import load_default_model
        >>> v = example_samples(1, size=96)[0]
        >>> t, bary = surface_at(load_default_model(), v, np.array([[0.0, 0.0], v.landmarks68[30]]))
        >>> int(t[0]), bool(t[1] >= 0), bool(np.isclose(bary[1].sum(), 1.0))       # background, nose tip
        (-1, True, True)
    """
    pts = np.asarray(points, np.float64).reshape(-1, 2)
    t = _pixel_triangles(np.asarray(view.triangle_ids), pts)
    bary = np.full((len(pts), 3), np.nan)
    on = t >= 0
    if on.any():
        vi = _vertices_image(model, view)
        b = np.clip(barycentric_coordinates(pts[on], vi[model.triangles[t[on]], :2]), 0.0, None)
        bary[on] = b / b.sum(1, keepdims=True)  # a point off its pixel's triangle moves onto that triangle
    return t, bary


def surface_points(model: FaceModel, view, points: np.ndarray) -> np.ndarray:
    """(N, 3) model-space surface points (the view's shape, cm) under (N, 2) image points; NaN off the face.

    Example:
        >>> from dffkit.data.synth import example_samples
        >>> from dffkit.face.model import load_default_model
        >>> model, v = load_default_model(), example_samples(1, size=96)[0]
        >>> tip = v.vertices(model)[model.landmarks68[30]]
        >>> bool(np.linalg.norm(surface_points(model, v, v.landmarks68[30:31])[0] - tip) < 1.0)   # cm
        True
    """
    t, bary = surface_at(model, view, points)
    out = np.full((len(t), 3), np.nan)
    on = t >= 0
    if on.any():
        shape = model.shape(view.p_id, view.p_exp)
        out[on] = np.einsum("nk,nkc->nc", bary[on], shape[model.triangles[t[on]]])
    return out


def true_matches(model: FaceModel, view_a, view_b, points_a: np.ndarray, depth_tol: float = 2.0) -> Correspondence:
    """Where the surface points under ``points_a`` in view A appear in view B, and whether they are visible.

    Example:
        >>> from dffkit.data.synth import example_samples
        >>> from dffkit.face.model import load_default_model
        >>> a, b = example_samples(2, size=96)
        >>> same = true_matches(load_default_model(), a, a, a.landmarks68[30:31])    # a view onto itself
        >>> bool(same.visible[0]), bool(np.abs(same.target - a.landmarks68[30:31]).max() < 1.0)
        (True, True)

    Args:
        model: the face model both views were rendered with.
        view_a, view_b: the two views (see the module docstring).
        points_a: (N, 2) source points, view A pixels.
        depth_tol: how far (pixels, view B's image frame) B's visible surface may lie in front of the
            point with the point still counted as visible.

    Returns:
        The :class:`Correspondence`.
    """
    pts = np.asarray(points_a, np.float64).reshape(-1, 2)
    if not np.isfinite(pts).all():
        raise DffkitError("source points contain NaN or infinite values")
    t, bary = surface_at(model, view_a, pts)
    on = t >= 0
    n = len(pts)
    target = np.full((n, 2), np.nan)
    surface = np.full((n, 3), np.nan)
    visible = np.zeros(n, bool)
    if not on.any():
        return Correspondence(target, on, visible, surface)
    tri = model.triangles[t[on]]
    vb = _vertices_image(model, view_b)
    pb = np.einsum("nk,nkc->nc", bary[on], vb[tri])
    shape_b = model.shape(view_b.p_id, view_b.p_exp)
    surface[on] = np.einsum("nk,nkc->nc", bary[on], shape_b[tri])
    target[on] = pb[:, :2]
    tb = _pixel_triangles(np.asarray(view_b.triangle_ids), pb[:, :2])
    # B shows the point's triangle or one sharing a vertex with it
    same = (tb >= 0) & (model.triangles[tb][:, :, None] == tri[:, None, :]).any((1, 2))
    # depth of B's visible surface: the plane of the triangle at the nearest pixel, at the point itself
    front = np.zeros(len(tb), bool)
    hit = tb >= 0
    if hit.any():
        tri_b = vb[model.triangles[tb[hit]]]
        zb = np.einsum("nk,nk->n", barycentric_coordinates(pb[hit, :2], tri_b[..., :2]), tri_b[..., 2])
        front[hit] = pb[hit, 2] >= zb - depth_tol
    visible[on] = same | front
    return Correspondence(target, on, visible, surface)


def view_angle(camera_a: Camera, camera_b: Camera) -> float:
    """The angle of the rotation between two cameras' views, degrees.

    Example:
        >>> round(view_angle(Camera(yaw=0.2), Camera(yaw=-0.3)), 4)
        28.6479
    """
    ra, rb = camera_a.R, camera_b.R
    cos = (np.trace(rb @ ra.T) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))
