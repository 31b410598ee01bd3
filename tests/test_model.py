from __future__ import annotations

import numpy as np
import pytest
import scipy.io as sio
from conftest import shared

from dffkit import DffkitError, FaceModel
from dffkit.face.model import bfm_params_from_300wlp

STEP_CM = 1e-3


def test_default_model_has_the_head_subset_counts(model):
    assert model.n_vertices == 17202
    assert model.n_triangles == 34332
    assert model.n_identity == 100
    assert model.n_expression == 53
    assert set(model.parts) == {"face", "face_narrow", "head_neck", "mouth_socket", "eye_sockets", "eyeballs"}


def test_landmarks_and_jaw_substitutes_lie_on_the_face(model):
    face = set(model.vertices_of("face").tolist())
    assert set(model.landmarks68.tolist()) <= face
    assert set(model.jaw_right.tolist()) <= face and set(model.jaw_left.tolist()) <= face
    # x points to the subject's left: substitutes of 0-7 sit on the same side as landmarks 0-7.
    x = model.mean[:, 0]
    assert (x[model.jaw_right] < 0).all() and (x[model.landmarks68[:8]] < 0).all()
    assert (x[model.jaw_left] > 0).all() and (x[model.landmarks68[9:17]] > 0).all()


def test_compression_error_is_at_most_half_a_step(model):
    src = np.load(shared("ict-facekit", "ict_face_light.npz"))
    keep = np.r_[0:14062, 21451:24591]
    np.testing.assert_array_equal(model.mean, src["neutral"][keep])
    id_err = np.abs(model.identity_basis - src["identity"][:, keep]).max()
    exp_err = np.abs(model.expression_basis - src["expression"][:, keep]).max()
    assert id_err <= STEP_CM / 2 + 1e-6
    assert exp_err <= STEP_CM / 2 + 1e-6
    assert id_err > 0  # the bases really are quantised: the bound above is the stated error


def test_shape_is_the_linear_model(model, rng):
    p_id = rng.standard_normal(model.n_identity).astype(np.float32)
    p_exp = rng.uniform(0, 1, model.n_expression).astype(np.float32)
    expected = (model.mean.astype(np.float64) + np.einsum("k,kvc->vc", p_id, model.identity_basis)
                + np.einsum("k,kvc->vc", p_exp, model.expression_basis))
    np.testing.assert_allclose(model.shape(p_id, p_exp), expected, atol=1e-4)


def test_shape_accepts_a_prefix_of_the_modes(model):
    p = np.zeros(model.n_identity, np.float32)
    p[:3] = [1, -2, 0.5]
    np.testing.assert_allclose(model.shape(p_id=p[:3]), model.shape(p_id=p), atol=1e-6)


@pytest.mark.parametrize("bad", [np.full(100, np.nan), np.zeros(101)])
def test_shape_rejects_nan_or_too_many_weights(model, bad):
    with pytest.raises(DffkitError):
        model.shape(p_id=bad)


def test_priors_identity_standard_normal_expression_in_unit_interval(model, rng):
    ids = np.stack([model.sample_identity(rng) for _ in range(2000)])
    assert abs(ids.mean()) < 0.02 and abs(ids.std() - 1.0) < 0.02
    exps = np.stack([model.sample_expression(rng) for _ in range(500)])
    assert exps.min() >= 0.0 and exps.max() <= 1.0
    np.testing.assert_array_equal(model.expression_bounds, np.tile([0.0, 1.0], (53, 1)))


def test_model_arrays_are_read_only(model):
    with pytest.raises(ValueError):
        model.mean[0, 0] = 1.0


def test_ict_obj_converter_matches_the_embedded_model(model):
    obj = FaceModel.from_ict_obj(shared("ict-facekit", "obj-sample"))
    assert obj.n_vertices == 26719 and obj.n_identity == 1 and obj.expression_names == ("jawOpen",)
    keep = np.r_[0:14062, 21451:24591]
    np.testing.assert_allclose(obj.mean[keep], model.mean, atol=1e-5)
    np.testing.assert_allclose(obj.identity_basis[0, keep], model.identity_basis[0], atol=STEP_CM / 2 + 1e-5)
    jaw = model.expression_names.index("jawOpen")
    np.testing.assert_allclose(obj.expression_basis[0, keep], model.expression_basis[jaw], atol=STEP_CM / 2 + 1e-5)
    np.testing.assert_array_equal(obj.landmarks68, model.landmarks68)  # kept vertices keep their index


def test_ict_obj_converter_names_a_wrong_folder(tmp_path):
    with pytest.raises(DffkitError, match="generic_neutral_mesh.obj"):
        FaceModel.from_ict_obj(tmp_path)


def _synthetic_bfm(path, rng, n=120, m1=199, m2=29):
    """A small random file in the 3DDFA BFM.mat layout (never the real BFM)."""
    mu = rng.normal(0, 5e4, (3 * n, 1))
    data = {
        "shapeMU": mu, "shapePC": rng.normal(0, 1, (3 * n, m1)), "shapeEV": rng.uniform(1e3, 1e5, (m1, 1)),
        "expMU": rng.normal(0, 1e3, (3 * n, 1)), "expPC": rng.normal(0, 1, (3 * n, m2)),
        "expEV": rng.uniform(1e2, 1e4, (m2, 1)),
        "tri": np.stack([np.arange(1, n - 1), np.arange(2, n), np.arange(3, n + 1)]).astype(np.float64),
        "kpt_ind": np.arange(1, 69, dtype=np.float64)[None],
    }
    sio.savemat(path, data)
    return data


def test_bfm_loader_reproduces_the_300wlp_shape(tmp_path, rng):
    path = tmp_path / "BFM.mat"
    d = _synthetic_bfm(path, rng)
    m = FaceModel.from_bfm(path)
    assert (m.n_identity, m.n_expression, m.n_vertices) == (199, 29, 120)
    shape_para = rng.normal(0, 1, 199) * d["shapeEV"][:, 0]
    exp_para = rng.normal(0, 1, 29) * d["expEV"][:, 0]
    p_id, p_exp = bfm_params_from_300wlp(path, shape_para, exp_para)
    raw = d["shapeMU"][:, 0] + d["expMU"][:, 0] + d["shapePC"] @ shape_para + d["expPC"] @ exp_para
    np.testing.assert_allclose(m.shape(p_id, p_exp), raw.reshape(-1, 3) * 1e-4, rtol=1e-4, atol=1e-3)
    np.testing.assert_array_equal(m.landmarks68, np.arange(68))
    assert m.triangles.min() == 0


def test_bfm_loader_names_missing_fields(tmp_path):
    sio.savemat(tmp_path / "x.mat", {"shapeMU": np.zeros((3, 1))})
    with pytest.raises(DffkitError, match="lacks"):
        FaceModel.from_bfm(tmp_path / "x.mat")


def test_bfm_loader_names_a_corrupt_file(tmp_path):
    (tmp_path / "bad.mat").write_bytes(b"not a mat file at all")
    with pytest.raises(DffkitError, match="not a readable MATLAB file"):
        FaceModel.from_bfm(tmp_path / "bad.mat")


def test_licence_notice_ships_with_the_model():
    from importlib import resources

    text = resources.files("dffkit").joinpath("assets/ICT-FaceKit-LICENSE").read_text()
    assert "USC Institute for Creative Technologies" in text and "MIT License" in text


def test_unpacked_model_is_cached_and_a_damaged_cache_file_is_replaced(tmp_path):
    import lzma
    import os
    import subprocess
    import sys
    from importlib import resources

    from dffkit.cache import cached_unpack

    blob = resources.files("dffkit").joinpath("assets/ict_face_light.npz.xz").read_bytes()
    calls = []

    def unpack(b):
        calls.append(1)
        return lzma.decompress(b)

    first = cached_unpack("ict_face_light", blob, unpack, tmp_path)
    (cached,) = tmp_path.glob("ict_face_light-*.npz")
    assert cached.read_bytes() == first and len(calls) == 1
    assert cached_unpack("ict_face_light", blob, unpack, tmp_path) == first and len(calls) == 1  # read back
    damaged = bytearray(first)
    damaged[len(damaged) // 2] ^= 0xFF  # one flipped byte inside a member: its CRC fails
    cached.write_bytes(bytes(damaged))
    assert cached_unpack("ict_face_light", blob, unpack, tmp_path) == first and len(calls) == 2
    assert cached.read_bytes() == first  # rewritten whole
    # a cache that cannot be written: the model still loads, the same
    r = subprocess.run([sys.executable, "-c", "from dffkit.face.model import load_default_model as m; "
                        "print(m().n_vertices)"], capture_output=True, text=True,
                       env={**os.environ, "DFFKIT_CACHE": "/proc/dffkit-cache"})
    assert r.returncode == 0 and r.stdout.strip() == "17202", r.stderr
