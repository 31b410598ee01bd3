"""Face profiling: a photo lifted to 3D and turned, with ground truth as exact as a render's."""

from __future__ import annotations

import subprocess
import sys

import cv2
import numpy as np
import pytest

from dffkit.data.dataset import Sample, SynthDataset
from dffkit.data.photos import default_images, list_images
from dffkit.data.profile import lift_photo, profile_view
from dffkit.data.sources import fit_sources
from dffkit.face.camera import Camera, project, rotation_matrix
from dffkit.face.landmarks import dense_landmarks
from dffkit.images import read_image


@pytest.fixture(scope="module")
def fitted(model):
    photos = list_images(default_images(), split="test", require_landmarks=True)[:2]
    return photos, fit_sources(model, photos, progress=False)


@pytest.fixture(scope="module")
def lifted(model, renderer, fitted):
    photos, src = fitted
    return lift_photo(read_image(src.paths[0]), model, src.p_id[0], src.p_exp[0], src.camera_of(0), src.colors[0],
                      renderer, landmarks=src.landmarks[0])


def _view(lifted, model, renderer, fitted, dyaw=0.0, **kw):
    _, src = fitted
    return profile_view(lifted, model, renderer, src.p_id[0], src.p_exp[0], np.radians(dyaw), size=160,
                        dense_idx=dense_landmarks(model, 160), **kw)


def _frame(view, lifted):
    """(k, b): the unrotated view is the photo mapped by x' = k x + b; read back from the landmarks."""
    lm, src = view.arrays["landmarks68"].astype(np.float64), lifted.landmarks
    k = np.linalg.norm(lm - lm.mean(0)) / np.linalg.norm(src - src.mean(0))
    return k, lm.mean(0) - k * src.mean(0)


def test_an_unrotated_view_reproduces_its_photo(lifted, model, renderer, fitted):
    view = _view(lifted, model, renderer, fitted, fill=0.6)
    k, b = _frame(view, lifted)
    expected = cv2.warpAffine(lifted.photo, np.array([[k, 0, b[0]], [0, k, b[1]]], np.float32), (160, 160),
                              flags=cv2.INTER_LINEAR)
    inside = cv2.warpAffine(np.ones(lifted.photo.shape[:2], np.uint8), np.array([[k, 0, b[0]], [0, k, b[1]]], np.float32),
                            (160, 160), flags=cv2.INTER_NEAREST)
    inside = cv2.erode(inside, np.ones((3, 3), np.uint8)) > 0  # the photo's own pixels (outside it is filled)
    diff = np.abs(view.arrays["image"].astype(float) - expected.astype(float)).mean(-1)[inside]
    assert np.median(diff) < 3.0 and diff.mean() < 8.0, (np.median(diff), diff.mean())
    assert view.inpainted < 0.05


def test_an_unrotated_view_keeps_the_hand_annotation(lifted, model, renderer, fitted):
    view = _view(lifted, model, renderer, fitted)
    assert view.arrays["annotated"]
    k, b = _frame(view, lifted)
    np.testing.assert_allclose(view.arrays["landmarks68"], lifted.landmarks * k + b, atol=1e-3)


@pytest.mark.parametrize("dyaw", [35.0, -60.0])
def test_a_turned_view_has_a_renders_ground_truth(lifted, model, renderer, fitted, dyaw):
    view = _view(lifted, model, renderer, fitted, dyaw=dyaw)
    a = view.arrays
    cam = Camera.from_vector(a["camera"])
    assert not a["annotated"]
    np.testing.assert_allclose(cam.R, rotation_matrix(0.0, np.radians(dyaw), 0.0) @ lifted.camera.R, atol=1e-9)
    shape = model.shape(a["p_id"], a["p_exp"])
    np.testing.assert_allclose(project(shape[model.landmarks68], cam), a["landmarks68"], atol=1e-3)
    ids = a["triangle_ids"]
    # every labelled pixel is a face triangle whose surface point projects back onto that pixel
    s = Sample(index=0, source=0, image=a["image"], p_id=a["p_id"], p_exp=a["p_exp"], camera=cam,
               landmarks68=a["landmarks68"], visible68=a["visible68"], dense=a["dense"],
               visible_dense=a["visible_dense"], triangle_ids=ids)
    rows, cols = np.nonzero(ids >= 0)
    assert len(rows) > 1000
    pts = s.surface_points(model)[rows, cols]
    np.testing.assert_allclose(project(pts.astype(np.float64), cam), np.c_[cols, rows], atol=2e-3)
    # the visible landmarks sit on face pixels, the hidden ones on the far side
    lm = np.round(a["landmarks68"][a["visible68"]]).astype(int)
    inside = (lm >= 0).all(1) & (lm < 160).all(1)
    assert (ids[lm[inside, 1], lm[inside, 0]] >= 0).mean() > 0.9
    assert a["visible68"].sum() < 68 if abs(dyaw) >= 60 else True
    assert 0.0 <= view.inpainted < 0.5 and 0.0 <= view.symmetric <= 1.0


def test_synth_profile_mode_writes_a_profiled_dataset(tmp_path, few_photos):
    r = subprocess.run([sys.executable, "-m", "dffkit.cli", "synth", "--mode", "profile", "--out", str(tmp_path / "ds"),
                        "--n", "10", "--size", "96", "--workers", "0", "--quiet", "--images", str(few_photos),
                        "--split", "all"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    ds = SynthDataset(tmp_path / "ds")
    assert ds.complete and len(ds) == 10 and ds.config["synth"]["mode"] == "profile"
    rotations = np.array([s.rotation_deg for s in ds])
    annotated = np.array([s.annotated for s in ds])
    assert np.isfinite(rotations).all() and (annotated == (rotations == 0)).all() and (~annotated).any()


def test_the_filled_share_grows_with_the_rotation(model, renderer, fitted):
    from dffkit.evaluation.profiling import fill_table, profiled_views

    _, src = fitted
    rows = fill_table(model, renderer, src, [0.0, 45.0, 90.0], size=128)
    inpainted = [r.inpainted for r in rows]
    symmetric = [r.symmetric for r in rows]
    assert rows[0].views == 2 and inpainted[0] < 0.01
    assert inpainted[0] < inpainted[1] < inpainted[2] and symmetric[0] < symmetric[2]
    views = profiled_views(model, renderer, src, 0, [0.0, 30.0], size=128)
    assert views[0].arrays["annotated"] and not views[1].arrays["annotated"]
