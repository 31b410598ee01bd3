"""What a run that trains a network shares, whichever loss it optimises (:mod:`dffkit.dff.train`,
:mod:`dffkit.dff.distill`): the device, the output folder and datasets checked before anything is written,
the checkpoint to resume, the learning-rate schedule, and the log trimmed to the resumed step."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Sequence
from pathlib import Path

import torch

from dffkit.atomic import atomic_write
from dffkit.data.dataset import REPAIR, SynthDataset
from dffkit.dff.batches import DatasetUnion
from dffkit.dff.config import NetConfig
from dffkit.dff.weights import read_checkpoint
from dffkit.errors import DffkitError

__all__ = ["check_device", "check_out", "checked_dataset", "checkpoint_to_resume", "cosine_schedule", "trim_log"]


def check_device(name: str | None) -> torch.device:
    """The torch device called ``name`` (None: CUDA when available, else the CPU), checked to exist.

    Raises:
        DffkitError: an unknown device type, or a CUDA device this machine does not have.
    """
    if name is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(name)
    except (RuntimeError, TypeError):
        raise DffkitError(f"unknown device {name!r}; use cpu, cuda or cuda:N") from None
    if dev.type == "cuda":
        n = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if n == 0:
            raise DffkitError(f"device {name!r} asked for, but this machine has no CUDA GPU; use --device cpu")
        if dev.index is not None and dev.index >= n:
            raise DffkitError(f"device {name!r} does not exist: this machine has {n} CUDA GPU(s), cuda:0 to cuda:{n - 1}")
    elif dev.type != "cpu":
        raise DffkitError(f"device {name!r} is not supported; use cpu, cuda or cuda:N")
    return dev


def check_out(out: Path) -> None:
    """The output folder must be a folder (or not exist) under a writable folder."""
    if out.exists() and not out.is_dir():
        raise DffkitError(f"{out} is a file, not a folder; choose another --out")
    anchor = out
    while not anchor.exists():
        anchor = anchor.parent
    if not anchor.is_dir() or not os.access(anchor, os.W_OK | os.X_OK):
        raise DffkitError(f"{out}: {anchor} is not writable; choose another --out")


def checked_dataset(roots: str | Path | Sequence[str | Path]) -> DatasetUnion:
    """The datasets, every shard checked against its recorded size and checksum (a damaged one is named)."""
    sets = []
    for root in [roots] if isinstance(roots, (str, Path)) else list(roots):
        ds = SynthDataset(root)
        bad = ds.verify()
        if bad:
            raise DffkitError(f"{Path(root) / bad[0]} is damaged ({len(bad)} of {ds.n_shards} shards fail their "
                              f"checksum); {REPAIR}")
        sets.append(ds)
    return DatasetUnion(sets)


def trim_log(path: Path, step: int, header: str) -> None:
    """Keep the log's rows up to ``step`` (a resumed run rewrites the rows after its checkpoint)."""
    rows = [r for r in csv.DictReader(open(path))] if path.is_file() else []
    keep = [r for r in rows if int(r["step"]) <= step]
    atomic_write(path, (header + "".join(",".join(r[k] for k in header.strip().split(",")) + "\n"
                                         for r in keep)).encode())


def checkpoint_to_resume(out: Path, resume: bool, config: NetConfig, refuse_existing: bool = True) -> dict | None:
    """``out/checkpoint.pt`` read for ``resume`` (None without it), checked against ``config``.

    Raises:
        DffkitError: ``resume`` with no checkpoint, or (``refuse_existing``) a checkpoint there without it.
    """
    path = out / "checkpoint.pt"
    if resume:
        if not path.is_file():
            raise DffkitError(f"{out} holds no checkpoint.pt to resume; drop --resume to start a new run")
        return read_checkpoint(path, config)
    if refuse_existing and path.is_file():
        raise DffkitError(f"{out} already holds a checkpoint; pass --resume to continue it or choose another --out")
    return None


def cosine_schedule(opt: torch.optim.Optimizer, steps: int) -> torch.optim.lr_scheduler.LambdaLR:
    """The learning rate from its start down to 5 % of it over ``steps``, along half a cosine."""
    return torch.optim.lr_scheduler.LambdaLR(
        opt, lambda k: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(k, steps) / steps)))
