"""Every image-taking entry point, CLI and API, against bad input: one line, exit 2, nothing written."""

from __future__ import annotations

import json
import subprocess
import sys

import cv2
import numpy as np
import pytest

import dffkit
from dffkit import DffkitError

COMMANDS = {  # command line with IMG standing for the input image and OUT for the output path
    "features": ["features", "IMG", "-o", "OUT.npy"],
    "match": ["match", "IMG", "IMG", "-o", "OUT.png"],
    "align": ["align", "IMG", "-o", "OUT.png"],
}


def _photo(tmp_path):
    from dffkit.data.photos import default_images

    return next(p for p in sorted(default_images().rglob("*.jpg")))


def _inputs(tmp_path) -> dict:
    """name -> (path, expect_error_substring or None for 'must work or say no face')."""
    good = cv2.imread(str(_photo(tmp_path)))
    cases = {}
    cases["missing"] = tmp_path / "missing.jpg"
    (tmp_path / "text.jpg").write_text("this is not an image")
    cases["non-image"] = tmp_path / "text.jpg"
    data = cv2.imencode(".jpg", good)[1].tobytes()
    (tmp_path / "trunc.jpg").write_bytes(data[: len(data) // 2])
    cases["truncated jpeg"] = tmp_path / "trunc.jpg"
    (tmp_path / "empty.png").write_bytes(b"")
    cases["empty"] = tmp_path / "empty.png"
    cv2.imwrite(str(tmp_path / "tiny.png"), np.full((10, 10, 3), 128, np.uint8))
    cases["10x10"] = tmp_path / "tiny.png"
    cv2.imwrite(str(tmp_path / "noface.png"), np.full((240, 320, 3), 90, np.uint8))
    cases["no face"] = tmp_path / "noface.png"
    return cases


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_bad_images_get_one_line_and_exit_2(tmp_path, command):
    inputs = tmp_path / "in"
    inputs.mkdir()
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    for name, path in _inputs(inputs).items():
        args = [str(path) if a == "IMG" else a.replace("OUT", str(out_dir / "result")) for a in COMMANDS[command]]
        r = subprocess.run([sys.executable, "-m", "dffkit.cli", *args], capture_output=True, text=True, timeout=300)
        lines = r.stderr.strip().splitlines()
        assert r.returncode == 2, (name, r.stderr)
        assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in r.stderr, (name, r.stderr)
        assert list(out_dir.iterdir()) == [], name  # nothing half-written


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_unwritable_output_is_named(tmp_path, command):
    img = _photo(tmp_path)
    args = [str(img) if a == "IMG" else a.replace("OUT", "/no/such/folder/result") for a in COMMANDS[command]]
    r = subprocess.run([sys.executable, "-m", "dffkit.cli", *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "does not exist" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_api_converts_gray_rgba_and_16_bit_and_names_bad_arrays(model):
    from dffkit.alignment.cascade import Aligner

    img = cv2.cvtColor(cv2.imread(str(_photo(None))), cv2.COLOR_BGR2RGB)
    box = np.array([img.shape[1] * 0.25, img.shape[0] * 0.25, img.shape[1] * 0.75, img.shape[0] * 0.75])
    aligner = Aligner(model)
    ref = aligner.align(img, box).landmarks
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
    rgba = np.dstack([img, np.full(img.shape[:2], 255, np.uint8)])
    deep = img.astype(np.uint16) * 257
    for variant in (rgba, deep):
        np.testing.assert_allclose(aligner.align(variant, box).landmarks, ref, atol=1e-3)
    assert aligner.align(gray, box).landmarks.shape == (68, 2)
    assert dffkit.features(gray, box).descriptors.shape[-1] == 32
    for bad, match in ((np.full((20, 20, 3), np.nan), "NaN"), (np.zeros((5,)), None)):
        with pytest.raises(DffkitError, match=match):
            aligner.align(bad, box)


def test_api_no_face_and_bad_boxes_are_named(model):
    blank = np.full((200, 200, 3), 90, np.uint8)
    with pytest.raises(DffkitError, match="no face"):
        dffkit.align(blank)
    with pytest.raises(DffkitError, match="no face"):
        dffkit.features(blank)
    with pytest.raises(DffkitError):
        dffkit.features(blank, np.array([np.nan, 0, 10, 10]))


def test_huge_image_without_a_face_is_refused_quickly(tmp_path):
    big = np.full((4000, 6000, 3), 90, np.uint8)
    with pytest.raises(DffkitError, match="no face"):
        dffkit.align(big)


def _cli(args: list[str], cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dffkit.cli", *args], capture_output=True, text=True, timeout=300,
                          cwd=cwd)


def _args(command: str, image, out) -> list[str]:
    return [str(image) if a == "IMG" else a.replace("OUT", str(out)) for a in COMMANDS[command]]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_reads_gray_rgba_and_16_bit_files(tmp_path, command):
    rgb = cv2.imread(str(_photo(tmp_path)))
    variants = {"gray": cv2.cvtColor(rgb, cv2.COLOR_BGR2GRAY),
                "rgba": np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)]),
                "deep": rgb.astype(np.uint16) * 257}
    for name, img in variants.items():
        path = tmp_path / f"{name}.png"
        cv2.imwrite(str(path), img)
        assert cv2.imread(str(path), cv2.IMREAD_UNCHANGED).shape == img.shape  # the file really is that format
        r = _cli(_args(command, path, tmp_path / f"{name}-out"))
        assert r.returncode == 0, (name, r.stderr)
        assert len(list(tmp_path.glob(f"{name}-out.*"))) == 1, name


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_cli_handles_a_6000x4000_photo(tmp_path, command):
    """A face in a 24-megapixel photo is found and processed (detection runs on a downscaled copy)."""
    face = cv2.imread(str(_photo(tmp_path)))
    big = cv2.resize(face, (4000, 4000), interpolation=cv2.INTER_CUBIC)
    canvas = np.full((4000, 6000, 3), 90, np.uint8)
    canvas[:, 1000:5000] = big
    path = tmp_path / "huge.jpg"
    cv2.imwrite(str(path), canvas)
    r = _cli(_args(command, path, tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert len(list(tmp_path.glob("out.*"))) == 1


BAD_PARAMETERS = {  # name -> (arguments, words the one-line error must contain)
    "NaN box": (["align", "IMG", "--box", "nan,0,100,100"], "box"),
    "inverted box": (["features", "IMG", "-o", "OUT.npy", "--box", "100,100,50,50"], "box"),
    "box off the image": (["align", "IMG", "--box", "5000,5000,6000,6000", "-o", "OUT.png"], "outside"),
    "huge box": (["match", "IMG", "IMG", "--box-a", "0,0,90000,90000", "--box-b", "0,0,100,100", "-o", "OUT.png"],
                 "outside"),
    "angle out of range": (["match", "IMG", "IMG", "--max-angle", "500"], "max-angle"),
    "stride 0": (["match", "IMG", "IMG", "--dense", "--stride", "0"], "stride"),
    "ratio NaN": (["match", "IMG", "IMG", "--method", "sift", "--ratio", "nan"], "ratio"),
    "corrupt weights": (["features", "IMG", "-o", "OUT.npy", "--weights", "CORRUPT"], "checkpoint"),
    "regressors as weights": (["match", "IMG", "IMG", "-o", "OUT.png", "--weights", "REGRESSORS"], "checkpoint"),
    "corrupt regressors": (["align", "IMG", "-o", "OUT.png", "--regressors", "CORRUPT"], "regressor"),
    "SIFT regressors for DFF": (["align", "IMG", "-o", "OUT.png", "--descriptor", "dff", "--regressors",
                                 "SIFTREG"], "'sift' regressors"),
}


@pytest.mark.parametrize("case", sorted(BAD_PARAMETERS))
def test_cli_bad_parameters_and_checkpoints_are_named(tmp_path, case):
    from dffkit.alignment.regressors import shipped_regressors_path

    args, words = BAD_PARAMETERS[case]
    (tmp_path / "corrupt.bin").write_bytes(b"\x00not a checkpoint\xff" * 10)
    out = tmp_path / "out"
    out.mkdir()
    subst = {"IMG": str(_photo(tmp_path)), "CORRUPT": str(tmp_path / "corrupt.bin"),
             "REGRESSORS": str(shipped_regressors_path("dff")), "SIFTREG": str(shipped_regressors_path("sift"))}
    argv = [subst.get(a, a.replace("OUT", str(out / "result"))) for a in args]
    r = _cli(argv)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr
    assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in r.stderr, r.stderr
    assert words in lines[0], lines[0]
    assert list(out.iterdir()) == []


def test_cli_accepts_a_box_with_negative_corners(tmp_path):
    """A face cut by the frame has a box starting left of or above the image: ``--box -20,-10,...``."""
    r = _cli(["align", str(_photo(tmp_path)), "--box", "-20,-10,150,170", "--json"])
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["faces"][0]["landmark_box"][:2] == [-20.0, -10.0]


def test_train_leaves_no_folder_behind_on_bad_data(tmp_path):
    r = _cli(["train", "--data", str(tmp_path / "none"), "--out", str(tmp_path / "run")])
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "run").exists()


def test_api_refuses_boxes_off_the_image_and_regressors_of_another_kind(model):
    from dffkit.alignment.regressors import Regressors, shipped_regressors_path

    img = cv2.cvtColor(cv2.imread(str(_photo(None))), cv2.COLOR_BGR2RGB)
    for bad in ([5000, 5000, 6000, 6000], [-1e6, -1e6, 1e6, 1e6]):
        with pytest.raises(DffkitError, match="outside"):
            dffkit.align(img, np.array(bad, float))
        with pytest.raises(DffkitError, match="outside"):
            dffkit.features(img, np.array(bad, float))
    with pytest.raises(DffkitError, match="'dff' regressors, not 'sdm'"):
        Regressors.load(shipped_regressors_path("dff"), descriptor="sdm")
    assert Regressors.load(shipped_regressors_path("sdm")).mode == "sdm"
