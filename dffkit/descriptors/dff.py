"""The Deep Face Feature behind the :class:`dffkit.descriptors.base.Descriptor` interface: the network's
(size, size, 32) unit descriptor map of the crop, sampled bilinearly and renormalised."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import cv2
import numpy as np

from dffkit.descriptors.base import Descriptor
from dffkit.errors import DffkitError
from dffkit.dff.features import DffRunner, as_runner, sample_map

if TYPE_CHECKING:
    from dffkit.dff.net import UNet

__all__ = ["DffDescriptor"]


class DffDescriptor(Descriptor):
    """DFF at crop points.

    Args:
        net: a network or :class:`dffkit.dff.features.DffRunner`; None loads the shipped weights. Its
            input size is the crop size.
        side: the side the network sees the crop at, pixels (None: the crop size). A smaller side shrinks
            each crop (area interpolation) before the network and reads its descriptor map at the crop
            points scaled to it (pixel centres kept): less work per crop, and the face at the scale it
            describes best (``benchmarks/eval_input_size.py``).

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
        >>> small = make_descriptor("dff", side=112)
        >>> small.options, small.prepare(crop).shape, small.describe(crop, np.array([[64.0, 64.0]])).shape
        ({'side': 112}, (112, 112, 32), (1, 32))
    """

    name: ClassVar[str] = "dff"
    needs_network: ClassVar[bool] = True

    def __init__(self, net: UNet | DffRunner | None = None, side: int | None = None) -> None:
        self.runner = as_runner(net)
        self.size = self.runner.size
        self.dim = self.runner.dim
        if side is not None and not (isinstance(side, int) and 16 <= side <= self.size and side % 16 == 0):
            raise DffkitError(f"the network's input side must be a multiple of 16 from 16 to the crop size "
                              f"{self.size}, got {side!r}")
        self.side = self.size if side is None else side

    @property
    def options(self) -> dict[str, Any]:
        """``{'side': side}`` when the network sees the crops smaller than their size, else nothing."""
        return {"side": self.side} if self.side != self.size else {}

    def prepare_batch(self, crops: np.ndarray, compact: bool = False) -> list[Any]:
        """The (side, side, dim) descriptor maps of the crops (views of the network's output, not copies);
        when ``compact``, as int8 maps (components × 127: a quarter of the memory, 0.004 of quantisation
        error on unit vectors)."""
        if self.side != self.size:
            crops = np.stack([cv2.resize(c, (self.side, self.side), interpolation=cv2.INTER_AREA) for c in crops])
        maps = self.runner(crops)
        return [np.round(m * 127).astype(np.int8) if compact else m for m in maps]

    def sample(self, prepared: Any, points: np.ndarray) -> np.ndarray:
        """DFF at the crop points, bilinear and renormalised (points in crop pixels, whatever the map's side)."""
        if self.side != self.size:
            k = self.side / self.size
            points = (np.asarray(points, np.float64) + 0.5) * k - 0.5
        return sample_map(prepared, points)
