from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from dffkit import Camera, DffkitError
from dffkit.face.camera import frame_camera, transform
from dffkit.face.render import Light, barycentric_map


def _cross2(a, b):
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def _edge_distances(vi, triangles, ids):
    """Signed distance (pixels, + inside) of each covered pixel centre to its triangle's three edges."""
    rows, cols = np.nonzero(ids >= 0)
    tri = triangles[ids[rows, cols]]
    p = vi[:, :2][tri]  # (N, 3, 2)
    q = np.stack([cols, rows], 1).astype(np.float64)
    area = _cross2(p[:, 1] - p[:, 0], p[:, 2] - p[:, 0])
    out = []
    for k in range(3):
        a, b = p[:, k], p[:, (k + 1) % 3]
        e = b - a
        d = _cross2(e, q - a) / np.maximum(np.linalg.norm(e, axis=1), 1e-12)
        out.append(d * np.sign(area))
    return np.stack(out, 1)


@pytest.mark.parametrize("yaw", [-80, -30, 0, 45, 90])
def test_each_pixel_lies_inside_its_triangle(model, renderer, yaw):
    w = frame_camera(model.mean[model.vertices_of("face")], 224, yaw=np.radians(yaw), pitch=0.2, roll=-0.1)
    out = renderer.render(model.mean, model.triangles, w, size=224)
    assert out.mask.sum() > 5000
    dist = _edge_distances(out.vertices_image, model.triangles, out.triangle_ids)
    # GL samples pixel centres with 1/256-pixel sub-pixel precision: no centre is further outside.
    assert dist.min() > -1 / 128
    b = out.barycentrics[out.mask]
    np.testing.assert_allclose(b.sum(1), 1.0, atol=1e-5)


def _brute_force(vi, triangles, h, w):
    """Per pixel centre: the nearest (max z) triangle that contains it, or -1; and its z."""
    ids = -np.ones((h, w), int)
    zbest = np.full((h, w), -np.inf)
    ys, xs = np.mgrid[0:h, 0:w]
    q = np.stack([xs.ravel(), ys.ravel()], 1).astype(float)
    for k, t in enumerate(triangles):
        a, b, c = vi[t, :2]
        m = np.array([b - a, c - a]).T
        l1, l2 = np.linalg.solve(m, (q - a).T)
        l0 = 1 - l1 - l2
        inside = (l0 > 1e-9) & (l1 > 1e-9) & (l2 > 1e-9)
        z = l0 * vi[t[0], 2] + l1 * vi[t[1], 2] + l2 * vi[t[2], 2]
        better = inside & (z > zbest.ravel())
        zb = zbest.ravel()
        zb[better] = z[better]
        zbest = zb.reshape(h, w)
        idr = ids.ravel()
        idr[better] = k
        ids = idr.reshape(h, w)
    return ids, zbest


def test_triangle_ids_and_depth_match_a_brute_force_z_buffer(renderer, rng):
    # Random overlapping triangles at random depths, seen frontally (s=1: model x,y are pixels).
    n = 40
    centres = rng.uniform(5, 59, (n, 1, 3)) * [1, 1, 0]
    verts = (centres + rng.normal(0, 9, (n, 3, 3)) * [1, 1, 0] + rng.uniform(-20, 20, (n, 1, 1)) * [0, 0, 1])
    verts = verts.reshape(-1, 3)
    verts[:, 1] *= -1  # model y is up
    tris = np.arange(3 * n).reshape(n, 3)
    w = Camera(s=1.0, tx=0.0, ty=0.0)
    out = renderer.render(verts, tris, w, size=(48, 64))
    vi = transform(verts, w)
    ids, z = _brute_force(vi, tris, 48, 64)
    dist = _edge_distances(vi, tris, np.where(ids >= 0, ids, -1))
    ambiguous = np.zeros((48, 64), bool)
    ambiguous[np.nonzero(ids >= 0)] = dist.min(1) < 1e-3  # a centre on an edge may go either way
    agree = (out.triangle_ids == ids) | ambiguous
    assert agree.mean() == 1.0
    ok = out.mask & ~ambiguous
    np.testing.assert_allclose(out.depth[ok], z[ok], atol=1e-4)
    assert np.isnan(out.depth[~out.mask]).all()


def test_depth_of_a_tilted_plane_is_exact(renderer):
    # Plane z = 0.3 x - 0.2 y + 5 over a grid, rendered at s=2.
    g = np.linspace(-10, 10, 21)
    x, y = np.meshgrid(g, g)
    verts = np.stack([x.ravel(), y.ravel(), 0.3 * x.ravel() - 0.2 * y.ravel() + 5], 1)
    idx = np.arange(21 * 21).reshape(21, 21)
    quads = np.stack([idx[:-1, :-1], idx[:-1, 1:], idx[1:, 1:], idx[1:, :-1]], -1).reshape(-1, 4)
    tris = np.concatenate([quads[:, [0, 1, 2]], quads[:, [0, 2, 3]]])
    w = Camera(s=2.0, tx=30.0, ty=30.0)
    out = renderer.render(verts, tris, w, size=60)
    rows, cols = np.nonzero(out.mask)
    mx, my = (cols - 30.0) / 2.0, (30.0 - rows) / 2.0
    np.testing.assert_allclose(out.depth[rows, cols], 2.0 * (0.3 * mx - 0.2 * my + 5), atol=1e-3)


def test_visibility_hides_far_ear_at_yaw_90(model, renderer):
    skin = model.vertices_of("face", "head_neck")
    p = model.mean[skin]
    band = np.abs(p[:, 1] - 2.0) < 4.0  # ears sit at eye height, y in [-2, 6] cm
    x_max = p[band, 0].max()
    left_ear = skin[band & (p[:, 0] > 0.92 * x_max)]  # the outermost 8% on each side
    right_ear = skin[band & (p[:, 0] < -0.92 * x_max)]
    assert len(left_ear) > 50 and len(right_ear) > 50
    w = frame_camera(model.mean, 224, yaw=np.radians(90))  # nose to the image right: left ear faces away
    vis = renderer.render(model.mean, model.triangles, w).vertex_visible
    assert vis[left_ear].mean() < 0.05
    assert vis[right_ear].mean() > 0.8


def test_all_68_landmarks_visible_when_frontal(model, renderer):
    w = frame_camera(model.mean[model.vertices_of("face")], 224)
    vis = renderer.render(model.mean, model.triangles, w).vertex_visible
    assert vis[model.landmarks68].all()


def test_far_jaw_landmarks_hidden_at_large_yaw(model, renderer):
    w = frame_camera(model.mean[model.vertices_of("face")], 224, yaw=np.radians(70))
    vis = renderer.render(model.mean, model.triangles, w).vertex_visible
    assert not vis[model.landmarks68[10:17]].any()  # subject's left jaw turns away
    assert vis[model.landmarks68[0:7]].all()


def test_open_mouth_and_eyes_show_no_hole(model, renderer):
    p_exp = np.zeros(model.n_expression, np.float32)
    p_exp[model.expression_names.index("jawOpen")] = 1.0
    shape = model.shape(p_exp=p_exp)
    w = frame_camera(shape[model.vertices_of("face")], 256)
    mask = renderer.render(shape, model.triangles, w, size=256).mask
    assert (ndimage.binary_fill_holes(mask) == mask).all()


def test_any_image_size_and_background(model, renderer):
    bg = np.full((90, 300, 3), 77, np.uint8)
    w = frame_camera(model.mean, (90, 300), fill=0.5)
    out = renderer.render(model.mean, model.triangles, w, size=(90, 300), background=bg)
    assert out.image.shape == (90, 300, 3) and out.triangle_ids.shape == (90, 300)
    assert (out.image[~out.mask] == 77).all()
    rows, cols = np.nonzero(out.mask)
    assert abs(cols.mean() - 149.5) < 20 and abs(rows.mean() - 44.5) < 10


def test_shading_follows_the_light(model, renderer):
    w = frame_camera(model.mean, 128)
    front = renderer.render(model.mean, model.triangles, w, size=128, light=Light(direction=(0, 0, 1)))
    back = renderer.render(model.mean, model.triangles, w, size=128, light=Light(direction=(0, 0, -1)))
    m = front.mask & back.mask
    assert front.image[m].mean() > back.image[m].mean() + 40


def test_rendering_is_deterministic(model, renderer):
    w = frame_camera(model.mean, 96, yaw=0.7)
    a = renderer.render(model.mean, model.triangles, w, size=96)
    b = renderer.render(model.mean, model.triangles, w, size=96)
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.triangle_ids, b.triangle_ids)


def test_barycentric_map_of_a_known_triangle():
    vi = np.array([[0.0, 0.0], [4.0, 0.0], [0.0, 4.0]])
    ids = -np.ones((5, 5), int)
    ids[1, 1] = 0
    b = barycentric_map(vi, np.array([[0, 1, 2]]), ids)
    np.testing.assert_allclose(b[1, 1], [0.5, 0.25, 0.25])
    assert (b[0, 0] == 0).all()


@pytest.mark.parametrize("bad", ["nan", "size", "colors"])
def test_render_rejects_bad_input(model, renderer, bad):
    verts = model.mean.copy()
    kwargs = {}
    if bad == "nan":
        verts[5, 1] = np.nan
    elif bad == "size":
        kwargs["size"] = 0
    else:
        kwargs["colors"] = np.zeros((3, 3))
    with pytest.raises(DffkitError):
        renderer.render(verts, model.triangles, Camera(s=5, tx=50, ty=50), **kwargs)
