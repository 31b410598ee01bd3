"""Ship trained alignment regressors: copy ``align_{dff,sift,sdm}.npz`` into dffkit/assets and rewrite the card.

The card (``ALIGN_MODEL_CARD.md``) is written from the files' own metadata (:func:`dffkit.alignment.card.write_card`).
With ``--before`` and ``--after`` (two outputs of ``benchmarks/eval_alignment.py``, one scored with the shipped
files and one with the new ones), the held-out real-photo results of both are tabulated under the card, and
the previous card is kept below them, so the old numbers stand beside the new ones.

Usage:
    python tools/ship_regressors.py /work/runs/align-dff/align_dff.npz /work/runs/align-sdm/align_sdm.npz \\
        --before before.json --after after.json
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from dffkit.alignment.card import CARD_NAME, write_card
from dffkit.atomic import atomic_write

ASSETS = Path(__file__).resolve().parents[1] / "dffkit" / "assets"
#: eval_alignment.py's keys per method and box, and their labels on the card
_ROWS = {"full (inter-ocular)": "NME inter-ocular", "failure rate (inter-ocular > 8%)": "failure rate inter-ocular > 8%",
         "full": "NME", "inner 51, inter-pupil": "inner 51, inter-pupil"}


def _real_table(before: dict, after: dict) -> list[str]:
    """Markdown rows: every method and box scored in both files, on the real 300-W test split (NME in %)."""
    lines = ["| method, box | quantity | before | after |", "|---|---|---|---|"]
    for key, row in after.get("real_300w", {}).items():
        old = before.get("real_300w", {}).get(key)
        if old is None or key.startswith("mean"):
            continue
        for q, label in _ROWS.items():
            if q in row and q in old:
                lines.append(f"| {key} | {label} | {100 * old[q]:.2f} | {100 * row[q]:.2f} |")
    return lines


def _yaw_table(before: dict, after: dict, name: str) -> list[str]:
    lines = [f"| {name} | \\|yaw\\| [0, 30) | [30, 60) | [60, 90] | mean |", "|---|---|---|---|---|"]
    for method, row in after.get(name, {}).get("table", {}).items():
        old = before.get(name, {}).get("table", {}).get(method)
        if old is None or method == "mean":
            continue
        cells = [f"{100 * old[b]:.2f} → {100 * row[b]:.2f}" for b in ("[0, 30)", "[30, 60)", "[60, 90]", "mean")]
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path, help="align_KIND.npz files to ship")
    ap.add_argument("--before", type=Path, help="eval_alignment.py output with the shipped files")
    ap.add_argument("--after", type=Path, help="eval_alignment.py output with the new files")
    args = ap.parse_args()
    old_cards = [ASSETS / CARD_NAME, ASSETS / "SDM_MODEL_CARD.md"]  # the SDM mode once had a card of its own
    previous = "\n\n".join(p.read_text() for p in old_cards if p.is_file())
    for f in args.files:
        if not f.name.startswith("align_") or f.suffix != ".npz":
            raise SystemExit(f"ship_regressors: error: {f} is not an align_KIND.npz file")
        shutil.copyfile(f, ASSETS / f.name)
    card = write_card(ASSETS).read_text()
    extra: list[str] = []
    if args.before and args.after:
        before, after = json.loads(args.before.read_text()), json.loads(args.after.read_text())
        extra += ["## Held-out results, the previously shipped files beside these", "",
                  (f"Scored by `benchmarks/eval_alignment.py` on {after['machine']['cpu']} ({after['machine']['cores']} "
                   "cores): the real 300-W test split (136 faces, hand annotations, never trained on), NME in %; "
                   "then the semi-synthetic profiled views of the test photos and the synthetic renders, per |yaw| "
                   "bin, landmark-box NME in %. Both runs use the same test sets."), ""]
        extra += _real_table(before, after) + [""]
        for name in ("profile-test", "render-test"):
            extra += _yaw_table(before, after, name) + [""]
    if previous:
        old = "\n".join(("#" + ln if ln.startswith("#") else ln) for ln in previous.splitlines())
        extra += ["## The previously shipped regressors", "", "Their card as it was:", "", old, ""]
    atomic_write(ASSETS / CARD_NAME, (card + "\n" + "\n".join(extra)).encode())
    (ASSETS / "SDM_MODEL_CARD.md").unlink(missing_ok=True)  # merged into the one card above
    print(f"shipped {', '.join(f.name for f in args.files)}; card {ASSETS / CARD_NAME}")


if __name__ == "__main__":
    main()
