"""The int8 network beside the fp32 one: the same descriptors to within a few degrees on real face crops, the
precision chosen by argument, environment or command line, and a clear error where int8 cannot run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from dffkit.data.photos import default_images, list_images
from dffkit.dff.quantize import calibration_crops
from dffkit.dff.runner import PRECISION_ENV, DffRunner, resolve_precision, shipped_onnx_path
from dffkit.errors import DffkitError


@pytest.fixture(scope="module")
def crops():
    return calibration_crops(list_images(default_images(), split="test", require_landmarks=True)[:6], 128)


def test_the_int8_model_ships_and_agrees_with_fp32_on_real_crops(crops):
    assert shipped_onnx_path("int8").is_file()
    a, b = DffRunner(precision="fp32")(crops), DffRunner(precision="int8")(crops)
    cos = np.clip((a * b).sum(-1) / np.linalg.norm(b, axis=-1), -1, 1)
    angle = np.degrees(np.arccos(cos))
    assert np.median(angle) < 8.0 and np.median(angle) > 0.0  # close, and really another model


def test_the_precision_comes_from_the_argument_then_the_environment(monkeypatch):
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    assert resolve_precision() == "fp32"
    monkeypatch.setenv(PRECISION_ENV, "int8")
    assert resolve_precision() == "int8" and resolve_precision("fp32") == "fp32"
    monkeypatch.setenv(PRECISION_ENV, "fp16")
    with pytest.raises(DffkitError, match="unknown precision"):
        resolve_precision()


def test_int8_needs_the_shipped_weights():
    from dffkit.dff.net import UNet, get_config

    with pytest.raises(DffkitError, match="int8 runs the shipped weights"):
        DffRunner(UNet(get_config("tiny")), precision="int8")
    with pytest.raises(DffkitError, match="int8 runs the shipped weights"):
        DffRunner(engine="torch", precision="int8")


def test_int8_from_the_environment_runs_where_it_can_and_fp32_elsewhere(monkeypatch):
    from dffkit.dff.net import UNet, get_config

    monkeypatch.setenv(PRECISION_ENV, "int8")
    assert DffRunner().precision == "int8"
    assert DffRunner(engine="torch").precision == "fp32"  # the torch engine has no int8 model
    assert DffRunner(UNet(get_config("tiny")).eval()).precision == "fp32"  # nor have other weights


def test_the_cli_runs_int8(tmp_path):
    import json
    import subprocess
    import sys

    image = list_images(default_images(), split="test")[0].image
    r = subprocess.run([sys.executable, "-m", "dffkit.cli", "align", str(image), "--json", "--precision", "int8"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert len(json.loads(r.stdout)["faces"]) >= 1


def test_quantising_leaves_the_working_folder_alone(crops, tmp_path, monkeypatch):
    import onnx

    from dffkit.dff.quantize import quantize_dff

    monkeypatch.chdir(tmp_path)
    q = quantize_dff(shipped_onnx_path("fp32").read_bytes(), crops[:2])
    props = {p.key: p.value for p in onnx.load_from_string(q).metadata_props}
    assert props["dffkit_precision"] == "int8"
    assert list(tmp_path.iterdir()) == [] and Path.cwd() == tmp_path  # no scratch files here, no chdir
    with pytest.raises(DffkitError, match="calibration crops"):
        quantize_dff(b"", crops[0])
