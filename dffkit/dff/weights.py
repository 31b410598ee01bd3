"""The DFF network's files: training checkpoints and weights, read safely.

Two kinds of file, both ``torch.save`` dictionaries:

* **weights** (``weights.pt``, and the shipped ``dffkit/assets/dff_cpu.pt``): ``format``
  (:data:`WEIGHTS_FORMAT`), ``config`` (:class:`dffkit.dff.net.NetConfig` as a dict), ``net`` (the state
  dict) and ``meta`` (how it was trained);
* **checkpoints** (``checkpoint.pt``): the same plus the heads, optimiser, scheduler, step and RNG state.

Every file is read with ``torch.load(..., weights_only=True)``: tensors and plain containers only, so a
file that would run code when unpickled is refused, never executed.
"""

from __future__ import annotations

import io
from importlib import resources
from pathlib import Path
from typing import Any

import torch

from dffkit.atomic import atomic_write
from dffkit.dff.net import NetConfig, UNet
from dffkit.errors import DffkitError

__all__ = ["WEIGHTS_FORMAT", "shipped_weights_path", "read_checkpoint", "save_torch", "save_weights", "load_weights"]

WEIGHTS_FORMAT = "dffkit-dff-weights-v1"


def shipped_weights_path() -> Path:
    """The DFF weights shipped with dffkit (CPU config)."""
    return Path(str(resources.files("dffkit").joinpath("assets/dff_cpu.pt")))


def read_checkpoint(path: str | Path, config: NetConfig | None = None) -> dict[str, Any]:
    """Read a checkpoint or weights file safely; with ``config``, check that its architecture matches.

    Raises:
        DffkitError: a missing or unreadable file, one that needs unpickling of code objects (refused),
            one that is not a dffkit network file, or one of another architecture than ``config``.
    """
    p = Path(path)
    if not p.is_file():
        raise DffkitError(f"{p}: no such checkpoint")
    try:
        ckpt = torch.load(p, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch raises many types for a corrupt or unsafe file
        unsafe = "weights_only" in str(exc) or "Unsupported global" in str(exc)
        why = "it holds Python objects that would run code when loaded, so it was refused" if unsafe else \
            f"{exc.__class__.__name__}"
        raise DffkitError(f"{p} is not a readable dffkit checkpoint ({why}); retrain or re-download it") from None
    if not isinstance(ckpt, dict) or "config" not in ckpt or "net" not in ckpt:
        raise DffkitError(f"{p} is not a dffkit checkpoint (no config or network weights)")
    try:
        saved = NetConfig.from_dict(ckpt["config"])
    except (TypeError, KeyError, DffkitError):
        raise DffkitError(f"{p} is not a dffkit checkpoint (its config is not a network config)") from None
    if config is not None and saved.architecture() != config.architecture():
        raise DffkitError(f"{p} was trained with config {saved.name!r} {saved.architecture()}, not "
                          f"{config.name!r} {config.architecture()}; pass --config {saved.name}")
    return ckpt


def save_torch(path: str | Path, doc: dict[str, Any]) -> Path:
    """``torch.save`` a dictionary of tensors and plain values atomically."""
    buf = io.BytesIO()
    torch.save(doc, buf)
    return atomic_write(Path(path), buf.getvalue())


def save_weights(path: str | Path, net: UNet, meta: dict[str, Any]) -> Path:
    """Write a network's weights file (CPU tensors, its config and ``meta``) atomically."""
    return save_torch(path, {"format": WEIGHTS_FORMAT, "config": net.config.to_dict(),
                             "net": {k: v.detach().cpu() for k, v in net.state_dict().items()}, "meta": meta})


def load_weights(path: str | Path | None = None, config: NetConfig | None = None) -> UNet:
    """A DFF network in eval mode from a weights or checkpoint file (None: the shipped weights).

    Raises:
        DffkitError: see :func:`read_checkpoint`; also weights that do not fit their own config.
    """
    p = shipped_weights_path() if path is None else Path(path)
    ckpt = read_checkpoint(p, config)
    cfg = NetConfig.from_dict(ckpt["config"])
    net = UNet(cfg)
    try:
        net.load_state_dict(ckpt["net"])
    except (RuntimeError, TypeError, AttributeError):
        raise DffkitError(f"{p}: the weights do not fit config {cfg.name!r}; the file is damaged") from None
    return net.eval()
