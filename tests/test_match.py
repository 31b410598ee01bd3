"""Ground-truth correspondence and the matchers, checked against independent constructions."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from dffkit import Camera, DffkitError, rotation_matrix
from dffkit.dff.features import FaceFeatures
from dffkit.face.camera import frame_camera, transform
from dffkit.matching.correspond import surface_points, true_matches, view_angle
from dffkit.matching.match import landmark_mask, mask_points, match_nearest, match_sift, nearest_angle
from dffkit.metrics import bin_of, match_counts, summarise_matches

SIZE = 160


def _view(model, renderer, cam: Camera, p_exp=None):
    p_id = np.zeros(model.n_identity)
    p_exp = np.zeros(model.n_expression) if p_exp is None else p_exp
    out = renderer.render(model.shape(p_id, p_exp), model.triangles, cam, size=SIZE)
    return SimpleNamespace(p_id=p_id, p_exp=p_exp, camera=cam, triangle_ids=out.triangle_ids,
                           image=out.image, vertex_visible=out.vertex_visible, index=0)


def test_roll_and_scale_change_maps_pixels_by_the_exact_similarity(model, renderer):
    face = model.shape()[model.region()]
    cam_a = frame_camera(face, SIZE, fill=0.6)
    roll = np.radians(25.0)
    cam_b = Camera(s=cam_a.s * 0.8, pitch=0.0, yaw=0.0, roll=roll, tx=cam_a.tx + 7.0, ty=cam_a.ty - 4.0)
    va, vb = _view(model, renderer, cam_a), _view(model, renderer, cam_b)
    pts = mask_points(va.triangle_ids >= 0, stride=3)
    truth = true_matches(model, va, vb, pts)
    assert truth.on_face.all() and truth.visible.mean() > 0.97
    c = np.rint(truth.target[~truth.visible]).astype(int)  # the misses fall just off B's silhouette
    assert (vb.triangle_ids[c[:, 1], c[:, 0]] >= 0).sum() <= 0.005 * len(pts)
    # independent: invert A's projection in the image plane, rotate by the roll, apply B's
    x = (pts[:, 0] - cam_a.tx) / cam_a.s
    y = (cam_a.ty - pts[:, 1]) / cam_a.s
    r2 = rotation_matrix(0.0, 0.0, roll)[:2, :2]
    xr, yr = r2 @ np.stack([x, y])
    expected = np.stack([cam_b.s * xr + cam_b.tx, cam_b.ty - cam_b.s * yr], 1)
    np.testing.assert_allclose(truth.target, expected, atol=0.02)  # GL puts pixel centres within 1/128 px of their triangle
    assert view_angle(va.camera, vb.camera) == pytest.approx(25.0, abs=1e-6)


def test_visibility_after_a_large_yaw_agrees_with_the_rendered_depth(model, renderer):
    face = model.shape()[model.region()]
    cam_a = frame_camera(face, SIZE, fill=0.6)
    cam_b = frame_camera(face, SIZE, yaw=np.radians(70.0), fill=0.6)
    va = _view(model, renderer, cam_a)
    shape = model.shape()
    out_b = renderer.render(shape, model.triangles, cam_b, size=SIZE)
    vb = SimpleNamespace(p_id=va.p_id, p_exp=va.p_exp, camera=cam_b, triangle_ids=out_b.triangle_ids)
    pts = mask_points(va.triangle_ids >= 0, stride=2)
    truth = true_matches(model, va, vb, pts)
    assert 0.1 < 1 - truth.visible.mean() < 0.6  # the far cheek turns away
    z = transform(truth.surface, cam_b)[:, 2]  # the point's depth in B (model space -> B's image frame)
    c = np.rint(truth.target).astype(int)
    zbuf = out_b.depth[c[:, 1], c[:, 0]]
    vis = truth.visible
    assert (np.abs(zbuf[vis] - z[vis]) < 3.0).mean() > 0.97  # a visible point is the rendered surface
    hidden = ~vis & np.isfinite(zbuf)
    assert hidden.sum() > 50 and (zbuf[hidden] > z[hidden] + 2.0).mean() > 0.98  # a hidden one lies behind it


def test_surface_points_of_the_true_targets_are_the_source_surface_points(model, renderer):
    face = model.shape()[model.region()]
    exp = np.zeros(model.n_expression)
    exp[3] = 0.8
    va = _view(model, renderer, frame_camera(face, SIZE, yaw=np.radians(-20), fill=0.6))
    vb = _view(model, renderer, frame_camera(face, SIZE, yaw=np.radians(15), fill=0.55), p_exp=exp)
    pts = mask_points(va.triangle_ids >= 0, stride=4)
    truth = true_matches(model, va, vb, pts)
    back = surface_points(model, vb, truth.target[truth.visible])
    d = np.linalg.norm(back - truth.surface[truth.visible], axis=1)
    assert np.nanmedian(d) < 0.05  # cm: only the rounding of the target to its pixel


def test_nearest_angle_matches_brute_force_in_chunks():
    rng = np.random.default_rng(0)
    q, c = rng.normal(size=(257, 8)), rng.normal(size=(300, 8))
    idx, ang = nearest_angle(q, c, k=2, chunk=50)
    qn, cn = q / np.linalg.norm(q, axis=1, keepdims=True), c / np.linalg.norm(c, axis=1, keepdims=True)
    full = np.degrees(np.arccos(np.clip(qn @ cn.T, -1, 1)))
    np.testing.assert_array_equal(idx[:, 0], full.argmin(1))
    np.testing.assert_allclose(ang[:, 0], full.min(1), atol=1e-3)
    assert (ang[:, 1] >= ang[:, 0]).all()


def test_dff_matching_thresholds_the_angle():
    rng = np.random.default_rng(1)
    d = rng.normal(size=(16, 16, 4)).astype(np.float32)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    f = FaceFeatures(descriptors=d, crop=np.array([0.0, 0.0, 16.0]), image=np.zeros((16, 16, 3), np.uint8))
    pts = mask_points(np.ones((16, 16), bool), stride=3)
    m = match_nearest(f, f, pts, np.ones((16, 16), bool), max_angle=1.0)
    np.testing.assert_allclose(m.target, pts)  # identical maps match every pixel to itself
    assert m.valid.all()
    with pytest.raises(DffkitError):
        match_nearest(f, f, pts, np.zeros((16, 16), bool))


def test_dff_candidates_on_a_large_face_are_one_per_descriptor_cell():
    """A face 1,600 px across with a 16² map: candidates at the 256 cell centres, 100 px apart."""
    rng = np.random.default_rng(2)
    d = rng.normal(size=(16, 16, 32)).astype(np.float32)
    d /= np.linalg.norm(d, axis=-1, keepdims=True)
    f = FaceFeatures(descriptors=d, crop=np.array([0.0, 0.0, 1600.0]), image=np.zeros((16, 16, 3), np.uint8))
    assert f.cell == 100.0
    mask = np.ones((1600, 1600), bool)
    assert len(f.grid_points(mask)) == 256 and len(f.grid_points(mask[:800])) == 128
    centre = (rng.integers(0, 16, size=(200, 2)) + 0.5) * 100 - 0.5
    src = centre + rng.uniform(-20, 20, size=(200, 2))  # mostly one cell's descriptor, blended with neighbours
    m = match_nearest(f, f, src, mask, max_angle=90.0)
    np.testing.assert_allclose(m.target, centre, atol=1e-9)  # each finds its own cell's centre


def test_sift_ratio_test_rejects_matches_on_a_shifted_texture():
    rng = np.random.default_rng(2)
    img = (rng.random((120, 120, 3)) * 255).astype(np.uint8)
    img = np.repeat(np.repeat(img[::4, ::4], 4, 0), 4, 1)[:120, :120]
    shifted = np.roll(img, (5, 9), axis=(0, 1))
    m = match_sift(img, shifted)
    ok = m.valid & (m.source[:, 0] > 20) & (m.source[:, 0] < 100) & (m.source[:, 1] > 20) & (m.source[:, 1] < 100)
    assert ok.sum() > 10
    np.testing.assert_allclose(np.median(m.target[ok] - m.source[ok], axis=0), [9, 5], atol=0.5)
    strict = match_sift(img, shifted, ratio=0.05)
    assert strict.n_valid < m.n_valid


def test_match_counts_and_bins():
    from dffkit.matching.correspond import Correspondence
    from dffkit.matching.match import Matches

    src = np.zeros((4, 2))
    truth = Correspondence(target=np.array([[0, 0], [10, 10], [np.nan, np.nan], [5, 5]], float),
                           on_face=np.array([True, True, False, True]), visible=np.array([True, True, False, False]),
                           surface=np.zeros((4, 3)))
    m = Matches(src, np.array([[1, 0], [30, 30], [0, 0], [5, 5]], float), np.array([True, True, True, False]),
                np.zeros(4))
    c = match_counts(m, truth, radius=2.0)
    assert (c.points, c.valid, c.correct, c.no_truth, c.rejected) == (3, 2, 1, 1, 1)
    s = summarise_matches([c, c])
    assert s.precision == 0.5 and s.reject_rate == 1.0 and s.valid_per_pair == 2.0
    assert (bin_of(10), bin_of(45), bin_of(75)) == (0, 1, 2)


def test_landmark_mask_covers_the_landmarks_and_the_forehead():
    pts = np.array([[50 + 30 * np.cos(t), 60 + 35 * np.sin(t)] for t in np.linspace(0.1, np.pi - 0.1, 17)]
                   + [[30 + 4 * k, 40] for k in range(10)] + [[50, 60]] * 41)
    mask = landmark_mask((120, 100), pts)
    assert mask[60, 50] and mask[35, 50] and not mask[5, 5]
