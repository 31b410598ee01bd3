"""One interface for per-point face descriptors, so that matching, alignment, evaluation and the command
line treat DFF and SIFT (and any descriptor added later) alike.

A :class:`Descriptor` describes square face crops of ``size`` × ``size`` pixels (:mod:`dffkit.boxes`):

1. :meth:`Descriptor.prepare_batch` does the per-crop work once (the DFF network's forward pass; SIFT's
   grey conversion), for several crops at a time;
2. :meth:`Descriptor.sample` reads (N, dim) unit descriptors at any crop points from a prepared crop.

:meth:`Descriptor.describe_face` applies both to a face of an image: the :class:`FaceDescription` it
returns samples at image points, which is what matching takes (:mod:`dffkit.matching.match`).

Adding a descriptor: one module with a subclass, and one line in :data:`dffkit.descriptors.DESCRIPTORS`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from dffkit.boxes import mask_grid, to_crop, warp_crop
from dffkit.errors import DffkitError

__all__ = ["Descriptor", "DescribedFace", "FaceDescription", "unit_rows"]


def unit_rows(d: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero). (N, D) -> (N, D) float32.

    Example:
        >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
        [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    """
    d = np.asarray(d, np.float32)
    norm = np.linalg.norm(d, axis=1, keepdims=True)
    return np.where(norm > 1e-6, d / np.maximum(norm, 1e-6), 0.0).astype(np.float32)


@runtime_checkable
class DescribedFace(Protocol):
    """What matching reads of a described face: descriptors at image points, and the points worth matching
    (a :class:`FaceDescription`, or the :class:`dffkit.dff.features.FaceFeatures` of :func:`dffkit.features`).

    Example:
        >>> from dffkit.descriptors import make_descriptor
        >>> face = make_descriptor("sift", size=32).describe_face(np.zeros((40, 40, 3), np.uint8),
        ...                                                       np.array([0.0, 0.0, 40.0]))
        >>> isinstance(face, DescribedFace)
        True
    """

    def sample(self, points: np.ndarray) -> np.ndarray:
        """(N, dim) unit descriptors at (N, 2) image points."""

    def grid_points(self, mask: np.ndarray) -> np.ndarray:
        """(N, 2) image points inside an (H, W) mask at the descriptor's resolution."""


class Descriptor(ABC):
    """A per-point descriptor of square face crops.

    Attributes:
        name: its registry name ('dff', 'sift').
        needs_network: built from the DFF network (whose input size is then the crop size), rather than
            from a crop size.
        matching: how two faces are matched with it (:mod:`dffkit.matching.match`): 'angle', the nearest
            descriptor by angle under a threshold (DFF); 'ratio', Lowe's ratio test between the keypoints
            the descriptor finds itself (SIFT).
        dim: descriptor dimension per point.
        size: the crop side it describes, pixels.

    Example:
        >>> from dffkit.descriptors import make_descriptor
        >>> sift = make_descriptor("sift", size=64)
        >>> crop = np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)
        >>> sift.describe(crop, np.array([[32.0, 32.0], [10.0, 50.0]])).shape
        (2, 128)
        >>> prepared = sift.prepare_batch(crop[None])
        >>> np.allclose(sift.sample(prepared[0], np.array([[32.0, 32.0]])), sift.describe(crop, np.array([[32.0, 32.0]])))
        True
    """

    name: ClassVar[str]
    needs_network: ClassVar[bool] = False
    matching: ClassVar[str] = "angle"
    dim: int
    size: int

    @property
    def options(self) -> dict[str, Any]:
        """The constructor options (beyond ``size`` or ``net``) that rebuild this descriptor, as JSON values:
        a regressor file records them, so that the cascade describes points as its training did."""
        return {}

    @abstractmethod
    def prepare_batch(self, crops: np.ndarray, compact: bool = False) -> list[Any]:
        """Per-crop work for (B, size, size, 3) uint8 crops; ``compact`` trades precision for memory (for
        training sets that hold many prepared crops). Returns B prepared crops for :meth:`sample`."""

    @abstractmethod
    def sample(self, prepared: Any, points: np.ndarray) -> np.ndarray:
        """(N, dim) float32 unit descriptors at (N, 2) crop points (zero rows where undefined)."""

    def keypoints(self, image: np.ndarray, mask: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The keypoints the descriptor finds itself in an (H, W, 3) image, inside an optional (H, W) mask:
        ((N, 2) points, pixels; (N, dim) descriptors), for ``matching == 'ratio'`` descriptors."""
        raise DffkitError(f"the {self.name} descriptor finds no keypoints of its own; match it by angle at given points")

    def prepare(self, crop: np.ndarray, compact: bool = False) -> Any:
        """:meth:`prepare_batch` for one (size, size, 3) crop."""
        crop = np.asarray(crop)
        if crop.shape != (self.size, self.size, 3):
            raise DffkitError(f"the {self.name} descriptor takes ({self.size}, {self.size}, 3) crops, got {crop.shape}")
        return self.prepare_batch(crop[None], compact)[0]

    def describe(self, crop: np.ndarray, points: np.ndarray) -> np.ndarray:
        """Descriptors of one crop at (N, 2) crop points: ``sample(prepare(crop), points)``."""
        return self.sample(self.prepare(crop), points)

    def describe_face(self, image: np.ndarray, crop: np.ndarray) -> FaceDescription:
        """The face in the square ``crop`` (x0, y0, side) of an (H, W, 3) RGB uint8 image, prepared once
        for sampling at image points.

        Example:
            >>> from dffkit.descriptors import make_descriptor
            >>> face = make_descriptor("sift", size=64).describe_face(np.zeros((80, 80, 3), np.uint8),
            ...                                                       np.array([8.0, 8.0, 64.0]))
            >>> face.sample(np.array([[40.0, 40.0]])).shape
            (1, 128)
        """
        c = np.asarray(crop, np.float64)
        return FaceDescription(self, self.prepare(warp_crop(image, c, self.size)), c)


@dataclass(frozen=True)
class FaceDescription:
    """A face crop prepared by a descriptor, sampled at image points (a :class:`DescribedFace`).

    Attributes:
        descriptor: the descriptor.
        prepared: its prepared crop (:meth:`Descriptor.prepare`).
        crop: (3,) x0, y0, side of the square crop, image pixels.

    Example:
        >>> from dffkit.descriptors import make_descriptor
        >>> face = make_descriptor("sift", size=32).describe_face(np.zeros((80, 80, 3), np.uint8),
        ...                                                       np.array([0.0, 0.0, 80.0]))
        >>> face.grid_points(np.ones((80, 80), bool)).shape, face.sample(np.array([[40.0, 40.0]])).shape
        ((1024, 2), (1, 128))
    """

    descriptor: Descriptor
    prepared: Any
    crop: np.ndarray

    def sample(self, points: np.ndarray) -> np.ndarray:
        """(N, dim) unit descriptors at (N, 2) image points (zero rows where undefined)."""
        return self.descriptor.sample(self.prepared, to_crop(points, self.crop, self.descriptor.size))

    def grid_points(self, mask: np.ndarray) -> np.ndarray:
        """(N, 2) image points inside an (H, W) mask at the descriptor's resolution (:func:`dffkit.boxes.mask_grid`)."""
        return mask_grid(self.crop, self.descriptor.size, mask)
