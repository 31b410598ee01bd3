"""The project's contract: the README's commands are what CI runs, and the package installs its data."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_opens_with_the_main_and_test_commands():
    main, test = _readme_commands()[:2]
    assert "scripts/setup.sh" in main and "tools/reproduce.py" in main
    assert "scripts/setup.sh" in test and "pytest" in test


def test_ci_runs_the_readme_test_command():
    test = _readme_commands()[1]
    assert test in (ROOT / ".ci" / "run").read_text()


def test_package_data_includes_the_model_and_its_licence():
    text = (ROOT / "pyproject.toml").read_text()
    assert '"assets/*"' in text
    assert (ROOT / "dffkit" / "assets" / "ict_face_light.npz.xz").is_file()
    assert (ROOT / "dffkit" / "assets" / "ICT-FaceKit-LICENSE").is_file()


def _doc_texts() -> dict[str, str]:
    """The README, the book's pages, the chapters' notebooks and the model cards (a card's quoted earlier
    cards, below its "previously shipped" heading, name the code of their time and are left out)."""
    files = [ROOT / "README.md", *sorted((ROOT / "book").rglob("*.md")), *sorted((ROOT / "notebooks").glob("*.py")),
             *sorted((ROOT / "dffkit" / "assets").glob("*_CARD.md"))]
    out = {}
    for f in files:
        text = f.read_text()
        cut = re.search(r"^#+ The previously shipped", text, re.M)
        out[str(f.relative_to(ROOT))] = text[:cut.start()] if cut else text
    return out


def test_the_docs_name_only_code_and_scripts_that_exist():
    import importlib

    missing = []
    for name, text in _doc_texts().items():
        for ref in set(re.findall(r"`[^`\n]*?(?<![/\w.-])(dffkit(?:\.[A-Za-z_]\w*)+)", text)):
            parts = ref.split(".")
            for i in range(len(parts), 0, -1):  # the longest importable module, then attributes
                try:
                    obj = importlib.import_module(".".join(parts[:i]))
                    break
                except ImportError:
                    continue
            for attr in parts[i:]:
                if not hasattr(obj, attr):
                    missing.append(f"{name}: {ref}")
                    break
                obj = getattr(obj, attr)
        missing += [f"{name}: {path}" for path in set(re.findall(r"\b(?:tools|benchmarks|scripts)/\w+\.(?:py|sh)\b", text))
                    if not (ROOT / path).exists()]
    assert sorted(missing) == [], "the docs name what does not exist"
