"""Shared fixtures. Tests may read ../shared/data; a test that needs it skips when it is absent."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("PYOPENGL_PLATFORM", "osmesa")

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def shared(*parts: str) -> Path:
    """A path under ../shared/data, skipping the test when it is missing."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not available")
    return p


@pytest.fixture(scope="session")
def model():
    from dffkit import load_default_model

    return load_default_model()


@pytest.fixture(scope="session")
def renderer():
    from dffkit.face.render import Renderer

    r = Renderer()
    yield r
    r.close()


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


class _BookBuild:
    """The smoke-scale book build, started as a background process as soon as a collected test needs it, so
    that it runs beside the rest of the suite rather than after it (the CI budget is wall time)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.out: Path | None = None

    def start(self, out: Path) -> None:
        if self.proc is None:
            self.out = out
            env = dict(os.environ, DFFKIT_CACHE=str(out / "cache"))  # no stale cache from an earlier run
            self.log = open(out.parent / f"{out.name}.log", "w+")
            self.proc = subprocess.Popen([sys.executable, str(ROOT / "tools" / "reproduce.py"), "--scale", "smoke",
                                          "--out", str(out)], stdout=self.log, stderr=subprocess.STDOUT, env=env)

    def wait(self) -> Path:
        try:
            rc = self.proc.wait(timeout=1500)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise
        self.log.seek(0)
        assert rc == 0, self.log.read()[-6000:]
        return self.out


_BOOK = _BookBuild()


def pytest_collection_modifyitems(session, config, items) -> None:
    if any("smoke_build" in getattr(item, "fixturenames", ()) for item in items):
        import tempfile

        _BOOK.start(Path(tempfile.mkdtemp(prefix="dffkit-smoke-book-")) / "book")


def pytest_sessionfinish(session, exitstatus) -> None:
    if _BOOK.proc is not None:
        if _BOOK.proc.poll() is None:
            _BOOK.proc.kill()
            _BOOK.proc.wait()
        _BOOK.log.close()
        shutil.rmtree(_BOOK.out.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def smoke_build() -> Path:
    """The book built at smoke scale by tools/reproduce.py (once per session, started at collection):
    OUT/src and OUT/_build/html."""
    return _BOOK.wait()
