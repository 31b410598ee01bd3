"""Every face, fast: the resident default aligner, folder-scale runs and their resume."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PHOTOS = sorted((ROOT / "dffkit" / "assets" / "photos").glob("*.jpg"))


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dffkit.cli", *args], capture_output=True, text=True, timeout=600)


def test_align_reuses_its_default_aligner_and_detector(monkeypatch):
    import dffkit
    from dffkit.alignment import cascade
    from dffkit.images import read_image

    image = read_image(PHOTOS[0])
    dffkit.align(image)  # builds the defaults once
    built = []
    monkeypatch.setattr(cascade.Aligner, "__init__", lambda self, *a, **k: built.append(1))
    for _ in range(3):
        a = dffkit.align(image)
    assert built == [] and a.landmarks.shape == (68, 2)  # no model load per call
    assert cascade.default_aligner() is cascade.default_aligner()


def test_a_folder_run_writes_one_row_per_face_and_resumes(tmp_path):
    folder = tmp_path / "photos"
    folder.mkdir()
    for p in PHOTOS[:5]:
        shutil.copy(p, folder)
    (folder / "broken.jpg").write_text("not an image")
    (folder / "blank.png").write_bytes(__import__("cv2").imencode(".png", np.full((120, 160, 3), 90, np.uint8))[1])
    out = tmp_path / "faces.csv"
    r = _cli("align", str(folder), "--csv", str(out), "--quiet")
    assert r.returncode == 1 and "broken.jpg" in r.stderr and "1 of 7 files could not be read" in r.stderr
    rows = list(csv.DictReader(open(out)))
    by_file = {}
    for row in rows:
        by_file.setdefault(Path(row["file"]).name, []).append(row)
    assert set(by_file) == {p.name for p in PHOTOS[:5]} | {"blank.png"}
    assert by_file["blank.png"][0]["face"] == "-1"
    face = next(row for row in rows if row["face"] == "0")
    pts = np.array([[float(face[f"x{k}"]), float(face[f"y{k}"])] for k in range(68)])
    assert np.isfinite(pts).all() and float(face["score"]) > 0.3 and face["v0"] in ("0", "1")
    # resume: a sixth photo added; only it is aligned, and earlier rows stay as they were
    shutil.copy(PHOTOS[5], folder)
    (folder / "broken.jpg").unlink()
    before = out.read_text()
    r = _cli("align", str(folder), "--csv", str(out), "--resume", "--quiet")
    assert r.returncode == 0, r.stderr
    after = out.read_text()
    assert after.startswith(before)
    new = list(csv.DictReader(after.splitlines()))[len(rows):]
    assert {Path(row["file"]).name for row in new} == {PHOTOS[5].name}


def test_a_folder_run_refuses_to_overwrite_without_resume(tmp_path):
    out = tmp_path / "faces.jsonl"
    out.write_text('{"file": "x"}\n')
    r = _cli("align", str(PHOTOS[0]), str(PHOTOS[1]), "--jsonl", str(out), "--quiet")
    assert r.returncode == 2 and "--resume" in r.stderr
    assert out.read_text() == '{"file": "x"}\n'


def test_a_folder_run_names_the_phone_photos_it_cannot_read(tmp_path):
    folder = tmp_path / "phone"
    folder.mkdir()
    (folder / "IMG_0001.HEIC").write_bytes(b"not decodable here")
    (folder / "IMG_0001.pts").write_text("annotations are not photos")
    r = _cli("align", str(folder), "--csv", str(tmp_path / "faces.csv"), "--quiet")
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1 and "1 .heic" in r.stderr
    assert not (tmp_path / "faces.csv").exists()
    shutil.copy(PHOTOS[0], folder / PHOTOS[0].name)
    r = _cli("align", str(folder), "--csv", str(tmp_path / "faces.csv"), "--quiet")
    assert r.returncode == 0 and "skipped" in r.stderr and "1 .heic" in r.stderr and ".pts" not in r.stderr
    with open(tmp_path / "faces.csv") as f:
        assert {Path(row["file"]).name for row in csv.DictReader(f)} == {PHOTOS[0].name}


def test_json_lines_to_stdout_with_two_workers():
    r = _cli("align", str(PHOTOS[0]), str(PHOTOS[1]), str(PHOTOS[2]), "--workers", "2", "--quiet")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert sorted(Path(row["file"]).name for row in rows if row["face"] <= 0) == sorted(p.name for p in PHOTOS[:3])
    assert all(len(row["landmarks68"]) == 68 for row in rows if row["face"] >= 0)
    assert r.stderr.strip() == ""
