"""Every command × the bad inputs a user meets, in one table: each case exits with status 2 (or the status
given), prints exactly one line on stderr that names the problem, runs no code from a file, and leaves
the output folder as it was. A new command or case is one line in :data:`CASES`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]
IMAGES = ROOT / "dffkit" / "assets" / "photos"
IMAGE = sorted(IMAGES.glob("*.jpg"))[0]


class _Evil:
    """Unpickling this runs ``touch MARKER``: what a hostile weights file would do."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def _files(tmp: Path) -> dict[str, str]:
    """The stand-ins a case's arguments name, made in ``tmp`` (outputs go to ``tmp/out``)."""
    from dffkit.alignment.regressors import shipped_regressors_path

    marker = tmp / "PWNED"
    torch.save({"config": _Evil(marker), "net": {}, "format": "dffkit-dff-weights-v1"}, tmp / "evil.pt")
    with open(tmp / "evil.npz", "wb") as fh:
        np.savez(fh, header=np.array([_Evil(marker)], dtype=object), stage0=np.zeros((2, 2)))
    (tmp / "corrupt.bin").write_bytes(b"\x00not a checkpoint\xff" * 10)
    (tmp / "empty.jpg").write_bytes(b"")
    (tmp / "text.jpg").write_text("not an image")
    (tmp / "adir.png").mkdir()
    (tmp / "notes.txt").write_text("x")
    return {"IMG": str(IMAGE), "DIR": str(IMAGES), "EMPTY": str(tmp / "empty.jpg"), "TEXT": str(tmp / "text.jpg"),
            "MISSING": str(tmp / "missing.jpg"), "EVILPT": str(tmp / "evil.pt"), "EVILNPZ": str(tmp / "evil.npz"),
            "CORRUPT": str(tmp / "corrupt.bin"), "RO": "/proc", "FOLDER": str(tmp / "adir.png"),
            "REGRESSORS": str(shipped_regressors_path("dff")), "SIFTREG": str(shipped_regressors_path("sift")),
            "NOTES": str(tmp / "notes.txt")}


#: id -> (arguments, words the one line must contain). OUT stands for a path in the output folder.
CASES: dict[str, tuple[list[str], str]] = {
    # render
    "render: wrong suffix": (["render", "-o", "OUT.gif"], "must end in"),
    "render: folder as output": (["render", "-o", "FOLDER"], "is a folder"),
    "render: yaw out of range": (["render", "--yaw", "400", "-o", "OUT.png"], "outside"),
    # segment
    "segment: zero patches": (["segment", "--n-patches", "0"], "outside"),
    # synth
    "synth: missing image folder": (["synth", "--images", "MISSING", "--out", "OUT"], "not found"),
    "synth: n 0": (["synth", "--out", "OUT", "--n", "0"], "outside"),
    "synth: a file as the dataset folder": (["synth", "--out", "NOTES", "--n", "1"], "is a file"),
    # train
    "train: unknown config": (["train", "--data", "MISSING", "--out", "OUT", "--config", "huge"], "unknown config"),
    "train: missing data": (["train", "--data", "MISSING", "--out", "OUT"], "missing.jpg"),
    # distill
    "distill: missing data": (["distill", "--data", "MISSING", "--out", "OUT"], "missing.jpg"),
    "distill: hostile teacher": (["distill", "--data", "MISSING", "--out", "OUT", "--teacher", "EVILPT"], "refused"),
    "distill: bad widths": (["distill", "--data", "MISSING", "--out", "OUT", "--widths", "8,0"], "positive"),
    # train-align
    "train-align: hostile weights": (["train-align", "--kind", "sdm", "--images", "DIR", "--weights", "EVILPT",
                                      "--out", "OUT"], "refused"),
    "train-align: no data for a cascade": (["train-align", "--kind", "dff", "--images", "DIR", "--out", "OUT"],
                                           "--data"),
    # features
    "features: missing image": (["features", "MISSING", "-o", "OUT.npy"], "no such file"),
    "features: empty image": (["features", "EMPTY", "-o", "OUT.npy"], "empty"),
    "features: not an image": (["features", "TEXT", "-o", "OUT.npy"], "not a readable image"),
    "features: three numbers for a box": (["features", "IMG", "--landmark-box", "1,2,3", "-o", "OUT.npy"], "box"),
    "features: inverted box": (["features", "IMG", "-o", "OUT.npy", "--landmark-box", "100,100,50,50"], "box"),
    "features: hostile weights": (["features", "IMG", "-o", "OUT.npy", "--weights", "EVILPT"], "refused"),
    "features: corrupt weights": (["features", "IMG", "-o", "OUT.npy", "--weights", "CORRUPT"], "checkpoint"),
    "features: empty output": (["features", "IMG", "-o", ""], "is empty"),
    "features: read-only folder": (["features", "IMG", "-o", "RO/f.npy"], "permission denied"),
    # match
    "match: hostile weights": (["match", "IMG", "IMG", "-o", "OUT.png", "--weights", "EVILPT"], "refused"),
    "match: regressors as weights": (["match", "IMG", "IMG", "-o", "OUT.png", "--weights", "REGRESSORS"],
                                     "checkpoint"),
    "match: huge box": (["match", "IMG", "IMG", "--landmark-box-a", "0,0,90000,90000", "--landmark-box-b",
                         "0,0,100,100", "-o", "OUT.png"], "outside"),
    "match: angle out of range": (["match", "IMG", "IMG", "--max-angle", "500"], "max-angle"),
    "match: stride 0": (["match", "IMG", "IMG", "--dense", "--stride", "0"], "stride"),
    "match: ratio NaN": (["match", "IMG", "IMG", "--method", "sift", "--ratio", "nan"], "ratio"),
    "match: unknown descriptor": (["match", "IMG", "IMG", "--method", "surf"], "invalid choice"),
    # align
    "align: NaN box": (["align", "IMG", "--landmark-box", "nan,0,100,100"], "box"),
    "align: box off the image": (["align", "IMG", "--landmark-box", "5000,5000,6000,6000", "-o", "OUT.png"],
                                 "outside"),
    "align: hostile regressors": (["align", "IMG", "-o", "OUT.png", "--regressors", "EVILNPZ"],
                                  "not a readable dffkit regressor file"),
    "align: corrupt regressors": (["align", "IMG", "-o", "OUT.png", "--regressors", "CORRUPT"], "regressor"),
    "align: SIFT regressors for DFF": (["align", "IMG", "-o", "OUT.png", "--descriptor", "dff", "--regressors",
                                        "SIFTREG"], "'sift' regressors"),
    "align: two outputs, one path": (["align", "IMG", "--depth", "OUT.png", "--pncc", "OUT.png"], "both write"),
    "align: folder as mesh": (["align", "IMG", "--mesh", "FOLDER"], "is a folder"),
    "align: empty --csv": (["align", "DIR", "--csv", ""], "is empty"),
    "align: folder with bad regressors, two workers": (["align", "DIR", "--csv", "OUT.csv", "--workers", "2",
                                                        "--regressors", "CORRUPT"], "regressor"),
    "align: csv and jsonl": (["align", "DIR", "--csv", "OUT.csv", "--jsonl", "OUT.jsonl"], "not both"),
    "align: 3D outputs for a folder": (["align", "DIR", "--csv", "OUT.csv", "--mesh", "OUT.ply"], "for one image"),
    "align: unwritable overlay": (["align", "IMG", "-o", "RO/o.png"], "permission denied"),
    # track
    "track: an image as a video": (["track", "IMG", "--jsonl", "OUT.jsonl"], "is an image, not a video"),
    "track: missing video": (["track", "MISSING", "--jsonl", "OUT.jsonl"], "no such file"),
    "track: empty --csv": (["track", "DIR", "--csv", ""], "is empty"),
    "track: folder as the overlay": (["track", "DIR", "-o", "FOLDER"], "is a folder"),
    "track: unwritable rows": (["track", "DIR", "--csv", "RO/rows.csv"], "permission denied"),
    # eval
    "eval: empty method": (["eval", "300w", "--root", "DIR", "--method", ""], "no method named"),
    "eval: unknown method": (["eval", "300w", "--root", "DIR", "--method", "dff,bogus"], "unknown method"),
    "eval: missing root": (["eval", "300w", "--root", "MISSING", "--method", "mean"], "no such folder"),
    "eval: unknown protocol": (["eval", "aflw9000", "--root", "DIR"], "invalid choice"),
}


def _cli(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dffkit.cli", *argv], capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_input_is_one_line_and_leaves_nothing(tmp_path, case):
    args, words = CASES[case]
    subst = _files(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    argv = [subst.get(a.split("/")[0], a.split("/")[0]) + ("/" + a.split("/", 1)[1] if "/" in a else "")
            if a.split("/")[0] in subst else a.replace("OUT", str(out / "result")) for a in args]
    r = _cli(argv)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, r.stderr[-2000:]
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert words in lines[0], lines[0]
    assert not (tmp_path / "PWNED").exists(), "a file's code ran"
    assert list(out.iterdir()) == []
