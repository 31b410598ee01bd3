"""Count dffkit's public definitions and those with a runnable example (a doctest that is not skipped).

Public: a module-level function or class, or a method of a public class, whose name does not start with
an underscore, in a module that is not private. A definition counts as having an example when its
docstring holds a ``>>>`` line without ``doctest: +SKIP``.

Usage:
    .venv/bin/python tools/count_examples.py [--missing SUBPACKAGE ...]
"""

from __future__ import annotations

import argparse
import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "dffkit"


def definitions(path: Path):
    """(qualified name, has example) of every public definition of a module."""
    tree = ast.parse(path.read_text())
    out = []

    def has_example(node) -> bool:
        doc = ast.get_docstring(node) or ""
        lines = [ln for ln in doc.splitlines() if ln.strip().startswith(">>>")]
        return bool(lines) and not all("doctest: +SKIP" in ln for ln in lines)

    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
            out.append((node.name, has_example(node)))
            if isinstance(node, ast.ClassDef):
                for sub in node.body:
                    if isinstance(sub, ast.FunctionDef) and not sub.name.startswith("_"):
                        out.append((f"{node.name}.{sub.name}", has_example(sub) or has_example(node)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--missing", nargs="*", default=[], help="list the definitions without an example in these")
    args = ap.parse_args()
    total = with_example = 0
    per: dict[str, list[int]] = {}
    for p in sorted(PKG.rglob("*.py")):
        rel = p.relative_to(PKG.parent).with_suffix("")
        mod = ".".join(rel.parts).removesuffix(".__init__")
        sub = mod.split(".")[1] if "." in mod else "dffkit"
        for name, ok in definitions(p):
            total += 1
            with_example += ok
            per.setdefault(sub, [0, 0])
            per[sub][0] += 1
            per[sub][1] += ok
            if not ok and sub in args.missing:
                print(f"  missing: {mod}.{name}")
    for sub, (n, ok) in sorted(per.items()):
        print(f"{sub:14s} {ok:4d} of {n:4d}")
    print(f"{'all':14s} {with_example:4d} of {total:4d}")


if __name__ == "__main__":
    main()
