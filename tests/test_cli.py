from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from dffkit.cli import main
from dffkit.images import read_image


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dffkit.cli", *args], capture_output=True, text=True, timeout=120)


def test_help_lists_the_commands():
    r = _run("--help")
    assert r.returncode == 0 and "render" in r.stdout and "segment" in r.stdout


def test_segment_builds_caches_and_reports(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("DFFKIT_CACHE", str(tmp_path))
    assert main(["segment", "--n-segmentations", "2", "--n-patches", "40", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_segmentations"] == 2 and out["all_connected"] and 0 < out["area_cv_mean"] < 0.5
    assert len(list(tmp_path.glob("segmentations-*.npz"))) == 1


def test_render_writes_a_face_image(tmp_path):
    out = tmp_path / "face.png"
    assert main(["render", "--yaw", "60", "--size", "160", "--seed", "1", "--identity", "random",
                 "--expression", "random", "--landmarks", "-o", str(out)]) == 0
    img = read_image(out)
    assert img.shape == (160, 160, 3)
    centre = img[40:120, 40:120].astype(int)
    assert (centre.sum(-1) > 60).mean() > 0.5  # the face fills the centre
    assert (img[:5, :5] == 0).all()  # black background in the corner


def test_render_is_reproducible_with_a_seed(tmp_path):
    for name in ("a.png", "b.png"):
        main(["render", "--identity", "random", "--seed", "7", "--size", "64", "-o", str(tmp_path / name)])
    assert np.array_equal(read_image(tmp_path / "a.png"), read_image(tmp_path / "b.png"))


def test_yaw_changes_the_image(tmp_path):
    main(["render", "--size", "64", "-o", str(tmp_path / "a.png")])
    main(["render", "--size", "64", "--yaw", "45", "-o", str(tmp_path / "b.png")])
    assert not np.array_equal(read_image(tmp_path / "a.png"), read_image(tmp_path / "b.png"))


@pytest.mark.parametrize("args", [
    ["render", "--yaw", "abc", "-o", "x.png"],
    ["render", "--yaw", "200", "-o", "x.png"],
    ["render", "--size", "3", "-o", "x.png"],
    ["render", "--yaw", "nan", "-o", "x.png"],
    ["render"],
    ["render", "-o", "x.gif"],
    ["render", "-o", "/no/such/folder/x.png"],
    ["frobnicate"],
    ["segment", "--n-patches", "1"],
    ["segment", "--n-segmentations", "0"],
])
def test_bad_arguments_get_one_line_and_exit_2(tmp_path, args):
    r = subprocess.run([sys.executable, "-m", "dffkit.cli", *args], capture_output=True, text=True, cwd=tmp_path,
                       timeout=120)
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "error" in lines[0] and "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []  # nothing half-written
