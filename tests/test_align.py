"""Alignment cascade, regressors, protocols and the align / eval commands."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest
import scipy.io as sio
from conftest import shared

import dffkit
from dffkit import DffkitError
from dffkit.alignment.cascade import Aligner
from dffkit.alignment.geometry import zbuffer_visibility
from dffkit.alignment.learn import train_regressors
from dffkit.alignment.regressors import Regressors
from dffkit.alignment.restart import PROFILE_DISAGREE, PROFILE_YAW, RESTART_MARGIN, TURN_DISAGREE, WARM_STAGES
from dffkit.boxes import landmark_box
from dffkit.data.photos import default_images, list_images
from dffkit.data.sources import fit_sources
from dffkit.data.synth import generate_pairs
from dffkit.evaluation.alignment import evaluate_alignment
from dffkit.evaluation.harness import evaluate
from dffkit.evaluation.methods import landmark_predictor
from dffkit.evaluation.protocols import load_300w, load_aflw, load_aflw2000
from dffkit.metrics import nme_box, nme_interpupil


@pytest.fixture(scope="module")
def samples(model):
    """Held-out large-pose renderings (test-split photos, both views of 6 pairs)."""
    src = fit_sources(model, list_images(default_images(), split="test")[:8], progress=False)
    pairs = generate_pairs(src, 6, seed=11, size=160, model=model, progress=False)
    return [v for pair in pairs for v in pair]


def test_zbuffer_hides_the_points_behind_a_nearer_plane():
    front = np.array([[x, y, 10.0] for x in range(10) for y in range(10)], float)
    back = front.copy()
    back[:, 2] = 0.0
    pts = np.concatenate([front, back, [[50.0, 50.0, 0.0]]])
    vis = zbuffer_visibility(pts, np.arange(len(pts)), cell=2.0, tol=1.0)
    assert vis[:100].all() and not vis[100:200].any() and vis[200]


def test_cascade_visibility_agrees_with_the_rendered_visibility(model, renderer):
    """The cascade's z-buffer on every 16th vertex plus the normals' test against the renderer's triangle
    z-buffer, over random identities and poses up to 86° of yaw (a point z-buffer on every 4th vertex alone
    agrees on about 81 %)."""
    from dffkit.alignment.geometry import CascadeState, ShapeBasis, project_points
    from dffkit.face.camera import Camera
    from dffkit.face.landmarks import dense_landmarks

    rng = np.random.default_rng(0)
    geo, dense = ShapeBasis.of(model), dense_landmarks(model, 160)
    agree = []
    for _ in range(40):
        p = np.zeros(geo.n_params)
        p[: model.n_identity] = rng.standard_normal(model.n_identity) * model.identity_std * 0.7
        cam = Camera(s=10.0, pitch=rng.uniform(-0.4, 0.4), yaw=rng.uniform(-1.5, 1.5), roll=rng.uniform(-0.3, 0.3),
                     tx=112.0, ty=112.0)
        truth = renderer.render(model.mean + np.tensordot(p[: model.n_identity], model.identity_basis, 1),
                                model.triangles, cam, size=224).vertex_visible[dense]
        agree.append(project_points(geo, CascadeState(cam, p))[1] == truth)
    assert np.mean(agree) > 0.88


def test_shipped_dff_cascade_beats_its_mean_shape_start(model, samples):
    predictors = {m: landmark_predictor(m, model) for m in ("dff", "mean")}
    res = evaluate_alignment(samples, predictors, progress=False)
    dff, mean = res.get("dff").errors, res.get("mean").errors
    assert dff.mean() < 0.75 * mean.mean()
    assert res.get("dff").bins.faces == len(samples)


def test_alignment_result_is_consistent(model, samples):
    s = samples[0]
    a = dffkit.align(s.image, landmark_box(s.landmarks68))
    assert a.landmarks.shape == (68, 2) and a.visible.shape == (68,) and a.stages.shape[1:] == (68, 2)
    np.testing.assert_allclose(a.model_landmarks, dffkit.project(a.shape(model)[model.landmarks68], a.camera), atol=1e-6)
    p = a.pose
    assert all(abs(v) <= 90 for v in (p.yaw_deg, p.pitch_deg, p.roll_deg))
    assert p.yaw_deg == pytest.approx(np.degrees(a.camera.yaw))


def test_regressors_train_save_and_load(tmp_path, model, samples):
    reg = train_regressors(model, samples[:6], n_stages=1, n_init=1, progress=False)
    path = reg.save(tmp_path / "r.npz")
    back = Regressors.load(path)
    assert back.descriptor == "dff" and len(back.stages) == 1
    np.testing.assert_allclose(back.stages[0], reg.stages[0], rtol=1e-2, atol=1e-3)  # stored in float16
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(DffkitError, match="not a readable"):
        Regressors.load(tmp_path / "bad.npz")


def test_a_restart_from_the_previous_frame_is_kept_unless_the_box_is_clearly_better(model, samples):
    """With the same face's previous alignment, the cascade restarts from its camera and shape and keeps that
    unless its residual grew and the cascade from the box ends under RESTART_MARGIN times it: on the same
    frame, where the box's cascade is the frame before's, never above the frame before's residual by more."""
    aligner = Aligner(model)
    for s in samples[:4]:
        box = landmark_box(s.landmarks68)
        first = aligner.align_checked(s.image, box[None])[0]
        again = aligner.align_checked(s.image, box[None], previous=[first])[0]
        assert again.residual <= first.residual / RESTART_MARGIN + 1e-12
        assert nme_box(again.landmarks, s.landmarks68) < 0.15
    with pytest.raises(DffkitError, match="one alignment .or None. per box"):
        aligner.align_checked(samples[0].image, box[None], previous=[first, first])


def _restart_from_a_previous_frame(model, samples):
    """An aligner, a sample, its true landmark box and its alignment there as the frame before's (residual 0.020)."""
    aligner = Aligner(model)
    s = samples[0]
    box = landmark_box(s.landmarks68)
    return aligner, s, box, dataclasses.replace(aligner.align_checked(s.image, box[None])[0], residual=0.020)


@pytest.mark.parametrize("box_residual, kept", [(0.021, 0.022), (0.015, 0.015)])
def test_the_box_replaces_a_restart_whose_residual_grew_only_when_clearly_better(model, samples, monkeypatch,
                                                                                box_residual, kept):
    """Residuals scripted: the frame before 0.020, the restart 0.022 (grew); the box's cascade 0.021 is within
    the noise of a still face and the restart stays, 0.015 replaces it."""
    aligner, s, box, previous = _restart_from_a_previous_frame(model, samples)
    real = Aligner._stages

    def scripted(self, prepared, cbox, stages, st):
        *run, _ = real(self, prepared, cbox, stages, st)
        return (*run, 0.022 if len(stages) == WARM_STAGES else box_residual)

    monkeypatch.setattr(Aligner, "_stages", scripted)
    assert aligner.align_checked(s.image, box[None], previous=[previous])[0].residual == kept


@pytest.mark.parametrize("restart_yaw, restart_residual, box_yaw, kept_yaw", [
    (85.0, 0.010, 65.0, 65.0), (85.0, 0.010, 75.0, 85.0), (35.0, 0.022, 28.0, 28.0), (35.0, 0.022, 33.0, 35.0)])
def test_the_box_replaces_a_restart_that_turned_clearly_further(model, samples, monkeypatch, restart_yaw,
                                                                restart_residual, box_yaw, kept_yaw):
    """Scripted, the frame before's residual 0.020 and the box's cascade's 0.030 (so the residual alone always
    keeps the restart). Beyond profile the box's cascade always runs and replaces a restart 20 degrees further
    round, not one 10 further (PROFILE_DISAGREE); below it, it runs when the restart's residual grew (0.022) and
    replaces a restart 7 degrees further round, not 2 (TURN_DISAGREE); without ``turn_check`` (a detector
    candidate's second look) it never does."""
    assert PROFILE_YAW < 85.0 and 10.0 < PROFILE_DISAGREE < 20.0 and 3.0 < TURN_DISAGREE < 7.0
    aligner, s, box, previous = _restart_from_a_previous_frame(model, samples)
    real = Aligner._stages

    def scripted(self, prepared, cbox, stages, st):
        *run, _ = real(self, prepared, cbox, stages, st)
        warm = len(stages) == WARM_STAGES
        st.camera = dataclasses.replace(st.camera, yaw=np.radians(restart_yaw if warm else box_yaw))
        return (*run, restart_residual if warm else 0.030)

    monkeypatch.setattr(Aligner, "_stages", scripted)
    got = aligner.align_checked(s.image, box[None], previous=[previous], turn_check=True)[0]
    assert got.pose.yaw_deg == pytest.approx(kept_yaw)
    assert got.residual == (0.030 if kept_yaw == box_yaw else restart_residual)
    unchecked = aligner.align_checked(s.image, box[None], previous=[previous])[0]  # a candidate's second look
    assert unchecked.pose.yaw_deg == pytest.approx(restart_yaw) and unchecked.residual == restart_residual


def test_bad_boxes_are_refused(model, samples):
    aligner = Aligner(model)
    for box in ([0, 0, 1, 1], [np.nan, 0, 10, 10], [1, 2, 3]):
        with pytest.raises(DffkitError):
            aligner.align(samples[0].image, np.array(box, float))


def test_protocol_metrics_and_a_perfect_predictor():
    gt = np.random.default_rng(0).normal(size=(68, 2)) * 20 + 100
    assert nme_box(gt, gt) == 0 and nme_interpupil(gt + 1.0, gt) > 0
    pts = list(shared("faces").glob("*.mat")) if shared("faces").is_dir() else []
    if not pts:
        pytest.skip("../shared/data/faces is absent")
    faces = load_aflw2000(shared("faces"))
    assert len(faces) == len(pts) and all(np.isfinite(f.yaw_deg) for f in faces)
    lookup = {f.image.name: f.points for f in faces}
    names = iter([f.image.name for f in faces])
    oracle = evaluate("aflw2000-3d", faces, lambda image, box: lookup[next(names)], progress=False)
    assert oracle.bins.mean == pytest.approx(0.0) and oracle.bins.faces == len(faces)


def test_aflw_and_300w_loaders(tmp_path):
    pt2d = np.abs(np.random.default_rng(1).normal(size=(2, 21))) * 50 + 10
    pt2d[:, 5] = -1
    sio.savemat(tmp_path / "a.mat", {"pt2d": pt2d, "Pose_Para": np.array([[0.0, 0.7, 0, 0, 0, 0, 1]])})
    import cv2

    cv2.imwrite(str(tmp_path / "a.jpg"), np.zeros((120, 120, 3), np.uint8))
    (f,) = load_aflw(tmp_path)
    assert f.visible.sum() == 20 and not f.visible[5] and f.yaw_deg == pytest.approx(np.degrees(0.7))
    with pytest.raises(DffkitError, match="no such folder"):
        load_300w(tmp_path / "missing")
    if shared("faces").is_dir():
        faces = load_300w(shared("faces"))
        assert len(faces) >= 3 and all(x.points.shape == (68, 2) for x in faces)


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "dffkit.cli", *args], capture_output=True, text=True, timeout=300)


@pytest.mark.skipif(not shared("faces").is_dir(), reason="../shared/data/faces is absent")
def test_align_cli_json_with_and_without_a_box(tmp_path):
    img = shared("faces", "IBUG_image_008_1_0.jpg")
    r = _cli("align", str(img), "--json", "-o", str(tmp_path / "o.png"))
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    face = doc["faces"][0]
    assert len(face["landmarks68"]) == 68 and len(face["visible68"]) == 68
    assert set(face["pose"]) == {"yaw_deg", "pitch_deg", "roll_deg"}
    assert (tmp_path / "o.png").is_file()
    r = _cli("align", str(img), "--box", "60,60,200,220", "--json")
    assert r.returncode == 0 and len(json.loads(r.stdout)["faces"]) == 1
    r = _cli("align", str(img), "--box", "5,5,2,2")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1


def test_sdm_mode_moves_2d_landmarks_only(model):
    from dffkit.data.photos import read_landmarks
    from dffkit.images import read_image
    from dffkit.metrics import nme_interpupil

    reg = Regressors.load(descriptor="sdm")
    assert reg.mode == "sdm" and len(reg.stages) == 4
    aligner = Aligner(model, reg)
    errs, starts = [], []
    for ph in list_images(default_images(), split="test", require_landmarks=True)[:8]:
        gt = read_landmarks(ph.landmarks)
        a = aligner.align(read_image(ph.image), landmark_box(gt))
        assert a.visible.all() and not a.p_id.any()
        errs.append(nme_interpupil(a.landmarks, gt))
        starts.append(nme_interpupil(a.stages[0], gt))
    assert np.mean(errs) < 0.6 * np.mean(starts)  # held-out real photos: the cascade improves on its start


def test_a_killed_cascade_training_resumes_at_its_stage_and_refuses_another_configuration(model, tmp_path):
    from dffkit.alignment.checkpoint import StageCheckpoint
    from dffkit.data.synth import example_samples

    samples = example_samples(4, size=96)
    kw = dict(descriptor="sift", size=64, n_init=1, progress=False)
    whole = train_regressors(model, samples, n_stages=2, **kw)
    ck = tmp_path / "stages.npz"
    train_regressors(model, samples, n_stages=1, checkpoint=ck, **kw)  # killed after its first stage
    assert ck.exists()
    resumed = train_regressors(model, samples, n_stages=2, checkpoint=ck, **kw)
    assert len(resumed.stages) == 2
    for a, b in zip(whole.stages, resumed.stages):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert [r["stage"] for r in resumed.meta["stages"]] == [1, 2]
    with pytest.raises(DffkitError, match="another configuration"):
        train_regressors(model, samples, n_stages=2, checkpoint=ck, box_jitter=0.2, **kw)
    assert StageCheckpoint(tmp_path / "none.pkl", {}).restore([]) == ([], [])


def test_aligning_a_folder_never_imports_torch(tmp_path):
    # inference runs the network's ONNX export: a process (or a pool worker) that aligns is ready in about a
    # second, not after torch's import
    face = list_images(default_images(), split="test")[0]
    code = ("import sys\nfrom dffkit.alignment.batch import align_files\n"
            f"rows = [r for r in align_files([{str(face.image)!r}])]\n"
            "assert rows[0].faces, rows\nprint(sorted(m for m in sys.modules if m.split('.')[0] == 'torch'))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"


def test_the_network_can_see_the_crops_smaller_and_the_regressors_remember_it(tmp_path):
    """``side``: the crop shrunk before the network, its map read at the crop points scaled to it; the same as
    enlarging the map back to the crop size, to bilinear accuracy; recorded in (and rebuilt from) the regressors."""
    import cv2

    from dffkit.descriptors import make_descriptor

    rng = np.random.default_rng(0)
    crop = cv2.GaussianBlur(rng.integers(0, 256, (128, 128, 3), dtype=np.uint8), (0, 0), 3)
    small = make_descriptor("dff", side=112)
    m = small.prepare(crop)
    assert m.shape == (112, 112, 32) and small.options == {"side": 112}
    big = cv2.resize(np.ascontiguousarray(m), (128, 128), interpolation=cv2.INTER_LINEAR)
    pts = rng.uniform(10, 118, (50, 2))
    a = small.sample(m, pts)
    b = make_descriptor("dff").sample(big, pts)
    assert np.median(np.degrees(np.arccos(np.clip((a * b).sum(1), -1, 1)))) < 3.0
    assert make_descriptor("dff").options == {}
    with pytest.raises(DffkitError, match="multiple of 16"):
        make_descriptor("dff", side=100)
    import dataclasses

    path = dataclasses.replace(Regressors.load(), descriptor_options={"side": 112}).save(tmp_path / "align_dff.npz")
    assert Aligner(regressors=Regressors.load(path)).descriptor.side == 112


def test_align_all_is_public_and_gives_every_face_largest_first():
    from dffkit.images import read_image

    img = read_image(shared("group-photos", "two_people.jpg"))
    faces = dffkit.align_all(img)
    centres = sorted(round(float(np.mean(a.landmark_box[0::2]))) for a in faces)
    assert len(faces) == 2 and abs(centres[0] - 322) < 60 and abs(centres[1] - 877) < 60  # the hand-marked faces
    sizes = [a.landmark_box[2] - a.landmark_box[0] for a in faces]
    assert sizes == sorted(sizes, reverse=True)
    assert np.allclose(dffkit.align(img).landmarks, faces[0].landmarks)  # align is the largest of them
    boxes = np.array([a.landmark_box for a in faces])
    assert len(dffkit.align_all(img, boxes)) == 2  # one alignment per given box
    with pytest.raises(dffkit.NoFaceError):
        dffkit.align_all(np.full((240, 320, 3), 128, np.uint8))
