"""The Deep Face Feature behind the :class:`dffkit.descriptors.base.Descriptor` interface: the network's
(size, size, 32) unit descriptor map of the crop, sampled bilinearly and renormalised."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

from dffkit.descriptors.base import Descriptor
from dffkit.dff.features import DffRunner, as_runner, sample_map

if TYPE_CHECKING:
    from dffkit.dff.net import UNet

__all__ = ["DffDescriptor"]


class DffDescriptor(Descriptor):
    """DFF at crop points.

    Args:
        net: a network or :class:`dffkit.dff.features.DffRunner`; None loads the shipped weights. Its
            input size is the crop size.

    Example:
        >>> from dffkit.descriptors import make_descriptor
        >>> dff = make_descriptor("dff")
        >>> crop = np.zeros((dff.size, dff.size, 3), np.uint8)
        >>> d = dff.describe(crop, np.array([[64.0, 64.0]]))
        >>> d.shape, round(float(np.linalg.norm(d)), 3)
        ((1, 32), 1.0)
        >>> compact = dff.prepare_batch(crop[None], compact=True)[0]
        >>> compact.dtype, bool(np.abs(dff.sample(compact, np.array([[64.0, 64.0]])) - d).max() < 0.02)
        (dtype('int8'), True)
    """

    name: ClassVar[str] = "dff"
    needs_network: ClassVar[bool] = True

    def __init__(self, net: UNet | DffRunner | None = None) -> None:
        self.runner = as_runner(net)
        self.size = self.runner.size
        self.dim = self.runner.dim

    def prepare_batch(self, crops: np.ndarray, compact: bool = False) -> list[Any]:
        """The (S, S, dim) descriptor maps of the crops (views of the network's output, not copies); when
        ``compact``, as int8 maps (components × 127: a quarter of the memory, 0.004 of quantisation error on
        unit vectors)."""
        maps = self.runner(crops)
        return [np.round(m * 127).astype(np.int8) if compact else m for m in maps]

    def sample(self, prepared: Any, points: np.ndarray) -> np.ndarray:
        """DFF at the crop points, bilinear and renormalised."""
        return sample_map(prepared, points)
