"""Shared fixtures. Tests may read ../shared/data; a test that needs it skips when it is absent."""

from __future__ import annotations

import os
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


@pytest.fixture(scope="session")
def smoke_build(tmp_path_factory) -> Path:
    """The book built at smoke scale by tools/reproduce.py (once per session): OUT/src and OUT/_build/html."""
    out = tmp_path_factory.mktemp("book")
    env = dict(os.environ, DFFKIT_CACHE=str(out / "cache"))  # no stale cache from an earlier run
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "reproduce.py"), "--scale", "smoke", "--out", str(out)],
                       capture_output=True, text=True, timeout=1500, env=env)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out
