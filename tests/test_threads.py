"""The thread policy (dffkit.threads): the per-face path never runs more BLAS threads than configured, counted
with threadpoolctl inside the cascade's own linear algebra, whatever the caller's setting."""

from __future__ import annotations

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

import dffkit
from dffkit.alignment import cascade, geometry
from dffkit.errors import DffkitError
from dffkit.threads import BLAS_ENV, ONNX_ENV, WORKER_ENV, BlasLimit, blas_threads, onnx_threads


def _blas_threads_now() -> list[int]:
    return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]


@pytest.fixture
def spy(monkeypatch):
    """Record the BLAS thread counts in force at every shape solve and stage update of the cascade."""
    monkeypatch.delenv(BLAS_ENV, raising=False)
    seen: list[int] = []
    solve, update = np.linalg.solve, cascade.stage_update

    def counting_solve(*a, **k):
        seen.extend(_blas_threads_now())
        return solve(*a, **k)

    def counting_update(*a, **k):
        seen.extend(_blas_threads_now())
        return update(*a, **k)

    monkeypatch.setattr(geometry.np.linalg, "solve", counting_solve)
    monkeypatch.setattr(cascade, "stage_update", counting_update)
    return seen


def test_the_cascade_runs_on_one_blas_thread_when_the_caller_allows_two(spy):
    from dffkit.examples import face

    image, _, box = face()
    aligner = cascade.Aligner()
    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads_now()
        aligner.align(image, box)
        after = _blas_threads_now()
    assert spy and set(spy) == {1}
    assert after == before  # the caller's own setting is given back


def test_the_configured_blas_threads_are_honoured(spy, monkeypatch):
    from dffkit.examples import face

    monkeypatch.setenv(BLAS_ENV, "2")
    image, _, box = face()
    with threadpool_limits(1, user_api="blas"):
        cascade.Aligner().align(image, box)
    assert spy and max(spy) <= 2


def test_a_bad_thread_setting_is_a_one_line_error(monkeypatch):
    monkeypatch.setenv(BLAS_ENV, "many")
    with pytest.raises(DffkitError, match=BLAS_ENV):
        blas_threads()
    monkeypatch.setenv(ONNX_ENV, "0")
    with pytest.raises(DffkitError, match=ONNX_ENV):
        onnx_threads()


def test_pool_workers_run_the_network_on_one_thread(monkeypatch):
    monkeypatch.delenv(ONNX_ENV, raising=False)
    monkeypatch.setenv(WORKER_ENV, "1")
    assert onnx_threads() == 1
    monkeypatch.setenv(ONNX_ENV, "2")
    assert onnx_threads() == 2


def test_the_limit_restores_the_callers_setting():
    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads_now()
        with BlasLimit(1)():
            assert set(_blas_threads_now()) == {1}
        assert _blas_threads_now() == before


def test_align_gives_the_same_answer_under_any_caller_setting():
    from dffkit.examples import face

    image, _, box = face()
    with threadpool_limits(1, user_api="blas"):
        a = dffkit.align(image, box).landmarks
    with threadpool_limits(2, user_api="blas"):
        b = dffkit.align(image, box).landmarks
    np.testing.assert_array_equal(a, b)
