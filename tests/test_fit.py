from __future__ import annotations

import numpy as np
import pytest
import scipy.io as sio
import scipy.sparse as sp
from conftest import shared

from dffkit import Camera, DffkitError, project
from dffkit.data.photos import image_split, read_landmarks, read_pts
from dffkit.face.camera import angles_from_rotation, estimate_camera, rotation_matrix
from dffkit.face.fit import fit_landmarks
from dffkit.face.landmarks import contour_candidates, dense_landmarks, march_contour
from dffkit.face.texture import fill_texture, mirror_vertices
from dffkit.metrics import nme_box as landmark_nme


@pytest.mark.parametrize("angles", [(0.2, -0.7, 0.1), (-0.3, 1.2, -0.4), (0.0, np.pi / 2, 0.0), (0.1, -np.pi / 2, 0)])
def test_angles_from_rotation_round_trip(angles):
    r = rotation_matrix(*angles)
    np.testing.assert_allclose(rotation_matrix(*angles_from_rotation(r)), r, atol=1e-9)


def test_estimate_camera_recovers_an_exact_camera(model):
    w = Camera(s=6.5, pitch=0.2, yaw=-1.1, roll=0.15, tx=120.0, ty=90.0)
    pts = model.mean[model.landmarks68]
    est = estimate_camera(pts, project(pts, w))
    np.testing.assert_allclose(est.to_vector(), w.to_vector(), atol=1e-6)


def test_fit_recovers_a_synthetic_face(model):
    rng = np.random.default_rng(3)
    p_id = model.sample_identity(rng)
    p_exp = model.sample_expression(rng)
    w = Camera(s=8.0, pitch=0.1, yaw=0.5, roll=-0.1, tx=200, ty=210)
    x = project(model.shape(p_id, p_exp)[model.landmarks68], w)
    fit = fit_landmarks(model, x, contour=False, sigma=0.005)
    assert fit.nme < 0.01
    # scale trades off against face size in the identity basis: only roughly determined by 68 points
    assert abs(fit.camera.yaw - w.yaw) < np.radians(5) and abs(fit.camera.s / w.s - 1) < 0.2


def test_fit_on_shared_photos_is_accurate(model):
    for name in ("einstein.pts", "breakingbad.pts", "takeo.pts", "image_0010.pts", "IBUG_image_008_1_0.mat",
                 "image00050.mat"):
        fit = fit_landmarks(model, read_landmarks(shared("faces", name)))
        assert fit.nme < 0.05, name
        assert np.isfinite(fit.p_id).all() and (fit.p_exp >= 0).all() and (fit.p_exp <= 1).all()


def test_fit_yaw_agrees_with_300wlp_pose(model):
    path = shared("faces", "IBUG_image_008_1_0.mat")
    fit = fit_landmarks(model, read_landmarks(path))
    pose = Camera.from_pose_para(sio.loadmat(path)["Pose_Para"].ravel(), 450)
    assert abs(fit.camera.yaw - pose.yaw) < np.radians(12)


@pytest.mark.parametrize("bad", [np.full((68, 2), np.nan), np.zeros((5, 2)), np.zeros((68, 2))])
def test_fit_rejects_bad_landmarks(model, bad):
    with pytest.raises(DffkitError):
        fit_landmarks(model, bad)


def test_landmark_nme_is_box_normalised():
    gt = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 40.0]])
    assert landmark_nme(gt + [2.0, 0.0], gt) == pytest.approx(2.0 / 20.0)


def test_dense_landmarks_contain_the_68_and_spread(model):
    d = dense_landmarks(model, 160)
    assert len(d) == 160 and len(set(d.tolist())) == 160
    np.testing.assert_array_equal(d[:68], model.landmarks68)
    assert set(d.tolist()) <= set(model.vertices_of("face_narrow").tolist())
    extra = model.mean[d[68:]]
    gaps = np.linalg.norm(extra[:, None] - model.mean[d][None], axis=2)
    gaps[np.arange(92), np.arange(68, 160)] = np.inf
    assert gaps.min(1).min() > 0.5  # no two dense points closer than 5 mm
    np.testing.assert_array_equal(dense_landmarks(model, 160), d)


def test_contour_marches_to_the_silhouette_only_on_the_turned_side(model):
    cand = contour_candidates(model)
    shape = model.mean
    frontal = march_contour(model.landmarks68, shape, Camera(s=5, tx=100, ty=100), cand)
    np.testing.assert_array_equal(frontal, model.landmarks68)
    w = Camera(s=5, yaw=np.radians(60), tx=100, ty=100)  # the subject's left (landmarks 9-16) turns away
    marched = march_contour(model.landmarks68, shape, w, cand)
    np.testing.assert_array_equal(marched[:9], model.landmarks68[:9])
    for lm in range(9, 17):
        reach = project(shape[cand[lm]], w)[:, 0]
        assert project(shape[marched[lm]], w)[0] == pytest.approx(reach.max())


def test_fill_texture_mirrors_then_interpolates_harmonically():
    # a path 0-1-2-3-4 with colours known at 0 and 4: the middle is the linear interpolation
    g = sp.csr_matrix(np.eye(5, k=1) + np.eye(5, k=-1))
    colors = np.zeros((5, 3))
    colors[4] = 100.0
    known = np.array([True, False, False, False, True])
    filled = fill_texture(colors, known, g, eps=0.0)
    np.testing.assert_allclose(filled[:, 0], [0, 25, 50, 75, 100])
    mirror = np.array([4, 3, 2, 1, 0])
    known2 = np.array([True, True, False, False, False])
    colors2 = np.array([[10.0] * 3, [20.0] * 3, [0] * 3, [0] * 3, [0] * 3])
    out = fill_texture(colors2, known2, g, mirror=mirror, eps=0.0)
    np.testing.assert_allclose(out[:, 0], [10, 20, 20, 20, 10])


def test_mirror_vertices_is_an_involution_on_the_face(model):
    mir = mirror_vertices(model)
    face = model.vertices_of("face_narrow")
    assert (mir[mir[face]] == face).mean() > 0.99
    np.testing.assert_allclose(model.mean[mir[face], 0], -model.mean[face, 0], atol=0.05)


def test_pts_reader_is_zero_based(tmp_path):
    p = tmp_path / "a.pts"
    p.write_text("version: 1\nn_points: 2\n{\n1.0 1.0\n11.5 21.0\n}\n")
    np.testing.assert_allclose(read_pts(p), [[0.0, 0.0], [10.5, 20.0]])
    (tmp_path / "b.pts").write_text("garbage")
    with pytest.raises(DffkitError, match="iBUG"):
        read_pts(tmp_path / "b.pts")


def test_split_keeps_faces_of_one_photo_together_and_is_fixed():
    assert image_split("3532475790_1.jpg") == image_split("3532475790_4.pts")
    splits = [image_split(f"{k}_1.jpg") for k in range(3000)]
    share = {s: splits.count(s) / 3000 for s in ("train", "val", "test")}
    assert 0.77 < share["train"] < 0.83 and 0.08 < share["val"] < 0.12 and 0.08 < share["test"] < 0.12
