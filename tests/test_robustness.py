"""Every image-taking entry point, CLI and API, against bad input: one line, exit 2, nothing written."""

from __future__ import annotations

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
    from dffkit.synth import default_photos

    return next(p for p in sorted(default_photos().rglob("*.jpg")))


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
    from dffkit.align import Aligner

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
        dffkit.features(blank, box=np.array([np.nan, 0, 10, 10]))


def test_huge_image_without_a_face_is_refused_quickly(tmp_path):
    big = np.full((4000, 6000, 3), 90, np.uint8)
    with pytest.raises(DffkitError, match="no face"):
        dffkit.align(big)
