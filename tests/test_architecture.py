"""The package's layout follows the paper's sections, and imports only run downwards."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "dffkit"

#: Sections from the bottom up; a module may import from its own section and the ones below.
LAYERS = [
    {"dffkit.errors", "dffkit.records", "dffkit.registry", "dffkit.threads", "dffkit.parallel", "dffkit.execution",
     "dffkit.atomic", "dffkit.cache", "dffkit.images",
     "dffkit.boxes", "dffkit.metrics", "dffkit.detect", "dffkit.lazy", "dffkit.stdio"},
    {"dffkit.face"},
    {"dffkit.viz", "dffkit.data"},
    {"dffkit.dff"},
    {"dffkit.descriptors"},
    {"dffkit.matching", "dffkit.alignment"},
    {"dffkit.evaluation", "dffkit.tracking"},
    {"dffkit.chapters", "dffkit.cli", "dffkit.examples", "dffkit"},
]


def _section(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else "dffkit"


def _layer(module: str) -> int:
    sec = _section(module)
    for k, layer in enumerate(LAYERS):
        if sec in layer:
            return k
    raise AssertionError(f"{module} belongs to no layer; add its section to LAYERS")


def _modules() -> dict[str, Path]:
    out = {}
    for p in PKG.rglob("*.py"):
        rel = p.relative_to(PKG.parent).with_suffix("")
        name = ".".join(rel.parts)
        out[name.removesuffix(".__init__")] = p
    return out


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dffkit") and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("dffkit"))
    return found


@pytest.mark.parametrize("module", sorted(_modules()))
def test_imports_only_run_down_the_sections(module):
    here = _layer(module)
    for imp in _imports(_modules()[module]):
        if imp == "dffkit" and module != "dffkit":  # the version string, or the package's public API
            continue
        assert _layer(imp) <= here, f"{module} (layer {here}) imports {imp} (layer {_layer(imp)})"


def test_no_module_is_over_400_lines():
    long = {m: len(p.read_text().splitlines()) for m, p in _modules().items()}
    assert {m: n for m, n in long.items() if n > 400} == {}


def test_every_public_function_has_a_docstring():
    missing = []
    for name, p in _modules().items():
        tree = ast.parse(p.read_text())
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and not node.name.startswith("_"):
                if ast.get_docstring(node) is None and name != "dffkit.cli.commands":
                    missing.append(f"{name}.{node.name}")
    assert missing == []


def test_align_and_features_are_plain_functions_of_the_package():
    import dffkit

    assert callable(dffkit.align) and callable(dffkit.features)
    assert type(dffkit.align).__name__ == "function" and type(dffkit.features).__name__ == "function"


def test_help_answers_without_importing_the_heavy_libraries():
    code = ("import sys, dffkit.cli as c\ntry:\n    c.main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('torch', 'cv2', 'scipy', 'dlib', 'OpenGL') if m in sys.modules))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip().splitlines()[-1] == "[]", r.stdout + r.stderr
