"""Shared fixtures. Tests may read ../shared/data; a test that needs it skips when it is absent."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
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


@pytest.fixture(scope="session")
def few_photos(tmp_path_factory) -> Path:
    """Four of the vendored held-out photos with their landmark files, for ``--images DIR --split all``: a
    synthesis test fits these rather than a whole split (fitting the sources is most of such a run's time)."""
    from dffkit.data.photos import default_images, list_images

    folder = tmp_path_factory.mktemp("few-photos")
    for face in list_images(default_images(), split="test", require_landmarks=True)[:4]:
        for f in (face.image, face.landmarks):
            os.symlink(f.resolve(), folder / f.name)
    return folder


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(1234)


# The book build and nbval run on one thread each (torch, OpenMP, BLAS, ONNX Runtime): beside the suite, two
# processes each spinning threads for every core thrash (a training test beside the training chapter took 273 s
# instead of 29 s) ...
_ONE_THREAD = {"OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "DFFKIT_ONNX_THREADS": "1"}
# ... and at a lower priority: the suite's own multi-threaded steps (training, pools) run as if alone, and the
# build takes the cores they leave idle (in the last CI run, torch tests beside the build at equal priority
# took 70 s instead of 4)
_NICE = ["nice", "-n", "10"] if shutil.which("nice") else []


@pytest.fixture(scope="session", autouse=True)
def _suite_torch_on_one_thread():
    """The suite's own torch (the training tests that run in this process) on one thread, for the session.

    Beside the background book build, a torch parallel region on two threads waits on the core the build holds:
    in a fresh-clone CI run, test_network_and_heads_can_fit_one_batch took 42-59 s against 5 s alone. Tests
    assert what the code does, not how many threads it uses for it; the thread policy has its own tests
    (tests/test_threads.py), which count threads in their own processes. torch is not imported for this: only
    a suite that already loaded it is changed.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        yield
        return
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


class _BookBuild:
    """The smoke-scale book build, then nbval over its executed notebooks, started in the background as soon as
    a collected test needs them, so that they run beside the rest of the suite rather than after it (the CI
    budget is wall time)."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen | None = None
        self.out: Path | None = None
        self.built = threading.Event()
        self.checked = threading.Event()
        self.build_rc, self.nbval, self.nbval_proc = None, None, None

    def start(self, out: Path, nbval: bool) -> None:
        if self.proc is not None:
            return
        self.out = out
        self.env = dict(os.environ, DFFKIT_CACHE=str(out / "cache"), **_ONE_THREAD)  # no stale cache from an earlier run
        self.log = open(out.parent / f"{out.name}.log", "w+")
        self.proc = subprocess.Popen([*_NICE, sys.executable, str(ROOT / "tools" / "reproduce.py"), "--scale", "smoke",
                                      "--out", str(out)], stdout=self.log, stderr=subprocess.STDOUT, env=self.env)
        threading.Thread(target=self._then_nbval, args=(nbval,), daemon=True).start()

    def _then_nbval(self, nbval: bool) -> None:
        try:
            self.build_rc = self.proc.wait(timeout=1500)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.build_rc = "timed out after 1500 s"
        self.built.set()
        if nbval and self.build_rc == 0:
            nb_dir = self.out / "src" / "notebooks"
            notebooks = sorted(str(p) for p in nb_dir.glob("*.ipynb"))
            args = [*_NICE, sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-p", "no:cacheprovider",
                    "-o", "addopts=", "--rootdir", str(nb_dir), "-q", *notebooks]
            self.nbval_proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                               cwd=nb_dir, env=self.env)
            try:
                out, _ = self.nbval_proc.communicate(timeout=1500)
            except subprocess.TimeoutExpired:
                self.nbval_proc.kill()
                out, _ = self.nbval_proc.communicate()
            self.nbval = subprocess.CompletedProcess(args, self.nbval_proc.returncode, out, "")
        self.checked.set()

    def wait(self) -> Path:
        self.built.wait()
        self.log.seek(0)
        assert self.build_rc == 0, self.log.read()[-6000:]
        return self.out

    def wait_nbval(self) -> subprocess.CompletedProcess:
        self.checked.wait()
        assert self.nbval is not None, "nbval did not run (the book build failed)"
        return self.nbval


_BOOK = _BookBuild()


def _needs(item, fixture: str = "smoke_build") -> bool:
    return fixture in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(session, config, items) -> None:
    if any(_needs(item) for item in items):
        import tempfile

        nbval = any(_needs(item, "smoke_nbval") for item in items)
        _BOOK.start(Path(tempfile.mkdtemp(prefix="dffkit-smoke-book-")) / "book", nbval)
        # The tests that read the build run last (in their own order), so that the rest of the suite runs
        # while the book builds, instead of waiting on it at the first such test.
        items[:] = [it for it in items if not _needs(it)] + [it for it in items if _needs(it)]


def pytest_sessionfinish(session, exitstatus) -> None:
    if _BOOK.proc is not None:
        if _BOOK.proc.poll() is None:
            _BOOK.proc.kill()
            _BOOK.proc.wait()
        if _BOOK.nbval_proc is not None and _BOOK.nbval_proc.poll() is None:
            _BOOK.nbval_proc.kill()
        _BOOK.checked.wait(timeout=60)  # the background thread has let go of the build
        _BOOK.log.close()
        shutil.rmtree(_BOOK.out.parent, ignore_errors=True)


@pytest.fixture(scope="session")
def smoke_build() -> Path:
    """The book built at smoke scale by tools/reproduce.py (once per session, started at collection):
    OUT/src and OUT/_build/html."""
    return _BOOK.wait()


@pytest.fixture(scope="session")
def smoke_nbval(smoke_build) -> subprocess.CompletedProcess:
    """nbval's run over the smoke build's executed notebooks (started when the build finished)."""
    return _BOOK.wait_nbval()
