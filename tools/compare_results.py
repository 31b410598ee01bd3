"""Compare every numeric leaf of two builds' result files (``results/*.json``), whatever their layout.

A refactoring that keeps behaviour must keep every number. The layouts may differ (display-text keys
against typed records, percentages against fractions), so leaves are matched by value, not by path: an old
leaf is *identical* when a new leaf of the same chapter equals it, or equals it once written as the old
file wrote it (times 100 for a percentage, rounded to the old leaf's decimals). Timings (any key naming
ms, fps, seconds, wall time or throughput) change from run to run and are counted apart.

Usage:
    .venv/bin/python tools/compare_results.py OLD_RESULTS_DIR NEW_RESULTS_DIR [--show 20]
"""

from __future__ import annotations

import argparse
import json
import math
from collections import Counter
from pathlib import Path

TIMING_WORDS = ("ms", "fps", "second", "wall", "load_or_build", "frames per", "render_", "train_min",
                "training time", "created")


def leaves(doc, path: str = "") -> list[tuple[str, float]]:
    """Every numeric leaf (bools excluded) of a JSON document, with its path."""
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            out += leaves(v, f"{path}/{k}")
    elif isinstance(doc, list):
        for k, v in enumerate(doc):
            out += leaves(v, f"{path}[{k}]")
    elif isinstance(doc, (int, float)) and not isinstance(doc, bool):
        out.append((path, float(doc)))
    return out


def _timing(path: str) -> bool:
    p = path.lower()
    keys = [k.split("[")[0] for k in p.split("/")]
    return any(w in p for w in TIMING_WORDS) or any(k.endswith("_s") for k in keys)  # wall_s, per_s; not *_still


def _decimals(v: float) -> int | None:
    text = repr(v)
    if "e" in text or "." not in text:
        return None
    return len(text.split(".")[1])


def _key(v: float) -> str:
    return "nan" if math.isnan(v) else repr(round(v, 12))


def compare(old_doc: dict, new_doc: dict) -> tuple[int, list[tuple[str, float]], int]:
    """(identical, [(path, value) of old leaves with no new counterpart], timing leaves skipped)."""
    new_vals = [v for p, v in leaves(new_doc.get("results", {})) if not _timing(p)]
    pool = Counter(_key(v) for v in new_vals)
    candidates = new_vals
    same, missing, timing = 0, [], 0
    for path, v in leaves(old_doc.get("results", {})):
        if _timing(path):
            timing += 1
            continue
        if pool[_key(v)] > 0:
            pool[_key(v)] -= 1
            same += 1
            continue
        d = _decimals(v)
        hit = False
        for n in candidates:
            for scaled in (n, 100.0 * n):
                if math.isnan(v) and math.isnan(scaled):
                    hit = True
                elif d is not None and not math.isnan(scaled) and round(scaled, d) == v:
                    hit = True
                elif not math.isnan(scaled) and abs(scaled - v) <= 1e-9 * max(1.0, abs(v)):
                    hit = True
                if hit:
                    break
            if hit:
                break
        if hit:
            same += 1
        else:
            missing.append((path, v))
    return same, missing, timing


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("old", type=Path)
    ap.add_argument("new", type=Path)
    ap.add_argument("--show", type=int, default=10, help="list this many differing leaves per chapter")
    args = ap.parse_args()
    total_same = total = total_timing = 0
    for old in sorted(args.old.glob("*.json")):
        new = args.new / old.name
        if not new.is_file():
            print(f"{old.stem}: no new file")
            continue
        same, missing, timing = compare(json.loads(old.read_text()), json.loads(new.read_text()))
        n = same + len(missing)
        total_same, total, total_timing = total_same + same, total + n, total_timing + timing
        print(f"{old.stem}: {same} of {n} numeric leaves identical ({timing} timing leaves not compared)")
        for path, v in missing[: args.show]:
            print(f"    differs: {path} = {v}")
    print(f"all: {total_same} of {total} numeric leaves identical; {total_timing} timing leaves not compared")


if __name__ == "__main__":
    main()
