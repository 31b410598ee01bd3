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
