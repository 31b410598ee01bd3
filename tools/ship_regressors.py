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
def _flat_real(doc: dict) -> dict[tuple[str, str], dict[str, float]]:
    """{(method, box): {quantity: fraction}} of an eval_alignment.py output, this format or the previous one
    (which keyed 'dff, true box' and scored the 3D cascade's own landmarks)."""
    out = {}
    if "real 300-W test" in doc:
        for key, row in doc["real 300-W test"].items():
            method, box = key.rsplit(", ", 1)
            out[method.replace(" landmarks_2d", ""), box.replace(" box", "")] = {
                "NME inter-ocular": row["NME inter-ocular"], "failures > 8 % inter-ocular": row["failures > 8%"],
                "NME inter-pupil": row["NME inter-pupil"]}
    for key, row in doc.get("real_300w", {}).items():
        method, box = key.split(", ", 1)
        out[method, "truth" if box == "true box" else "detector"] = {
            "NME inter-ocular": row["full (inter-ocular)"], "failures > 8 % inter-ocular": row["failure rate (inter-ocular > 8%)"],
            "NME inter-pupil": row["full"]}
    return out


def _flat_bins(doc: dict, name: str) -> dict[str, list[float]]:
    """{method: [bin means..., mean]} of the 3D-convention pose table of ``name`` ('profile-test', 'render-test')."""
    if f"{name}, 3d convention" in doc:
        return {m: [b["NME"] for k, b in row.items() if isinstance(b, dict) and "NME" in b] + [row["mean of bins"]]
                for m, row in doc[f"{name}, 3d convention"].items()}
    return {m: [row[b] for b in ("[0, 30)", "[30, 60)", "[60, 90]", "mean")]
            for m, row in doc.get(name, {}).get("table", {}).items()}


def _real_table(before: dict, after: dict) -> list[str]:
    """Markdown rows: every method and box scored in both files, on the real 300-W test split (NME in %)."""
    old, new = _flat_real(before), _flat_real(after)
    lines = ["| method, box | quantity | before | after |", "|---|---|---|---|"]
    for key, row in new.items():
        if key not in old or key[0] == "mean":
            continue
        for q, v in row.items():
            lines.append(f"| {key[0]}, {key[1]} box | {q} | {100 * old[key][q]:.2f} | {100 * v:.2f} |")
    return lines


def _yaw_table(before: dict, after: dict, name: str) -> list[str]:
    old, new = _flat_bins(before, name), _flat_bins(after, name)
    lines = [f"| {name} (3D convention) | \\|yaw\\| [0, 30) | [30, 60) | [60, 90] | mean |", "|---|---|---|---|---|"]
    for method, row in new.items():
        if method not in old or method == "mean":
            continue
        lines.append(f"| {method} | " + " | ".join(f"{100 * a:.2f} → {100 * b:.2f}" for a, b in zip(old[method], row))
                     + " |")
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
                   "before: the previously shipped files, scored by the dffkit of their time; after: these files "
                   "(`dff` rows: `landmarks_2d`, the 2D convention of 300-W's annotation, unless marked 3D). Then the "
                   "semi-synthetic profiled views of the test images and the synthetic renders, per |yaw| bin, "
                   "landmark-box NME in %, in the 3D convention."), ""]
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
