"""One interface for per-point face descriptors, so that matching, alignment, evaluation and the command
line treat DFF and SIFT (and any descriptor added later) alike.

A :class:`Descriptor` describes square face crops of ``size`` × ``size`` pixels (:mod:`dffkit.boxes`):

1. :meth:`Descriptor.prepare_batch` does the per-crop work once (the DFF network's forward pass; SIFT's
   grey conversion), for several crops at a time;
2. :meth:`Descriptor.sample` reads (N, dim) unit descriptors at any crop points from a prepared crop.

Adding a descriptor: one module with a subclass, and one line in :data:`dffkit.descriptors.DESCRIPTORS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

import numpy as np

from dffkit.errors import DffkitError

__all__ = ["Descriptor", "unit_rows"]


def unit_rows(d: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero). (N, D) -> (N, D) float32."""
    d = np.asarray(d, np.float32)
    norm = np.linalg.norm(d, axis=1, keepdims=True)
    return np.where(norm > 1e-6, d / np.maximum(norm, 1e-6), 0.0).astype(np.float32)


class Descriptor(ABC):
    """A per-point descriptor of square face crops.

    Attributes:
        name: its registry name ('dff', 'sift').
        dim: descriptor dimension per point.
        size: the crop side it describes, pixels.
    """

    name: ClassVar[str]
    dim: int
    size: int

    @abstractmethod
    def prepare_batch(self, crops: np.ndarray, compact: bool = False) -> list[Any]:
        """Per-crop work for (B, size, size, 3) uint8 crops; ``compact`` trades precision for memory (for
        training sets that hold many prepared crops). Returns B prepared crops for :meth:`sample`."""

    @abstractmethod
    def sample(self, prepared: Any, points: np.ndarray) -> np.ndarray:
        """(N, dim) float32 unit descriptors at (N, 2) crop points (zero rows where undefined)."""

    def prepare(self, crop: np.ndarray, compact: bool = False) -> Any:
        """:meth:`prepare_batch` for one (size, size, 3) crop."""
        crop = np.asarray(crop)
        if crop.shape != (self.size, self.size, 3):
            raise DffkitError(f"the {self.name} descriptor takes ({self.size}, {self.size}, 3) crops, got {crop.shape}")
        return self.prepare_batch(crop[None], compact)[0]

    def describe(self, crop: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Descriptors of one crop at (N, 2) crop points: ``sample(prepare(crop), points)``."""
        return self.sample(self.prepare(crop), points)
