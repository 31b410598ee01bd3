"""What face profiling makes of a photo: a photo's views at several rotations, and how much of each
view is filled (inpainted background, symmetric face texture) rather than seen."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from dffkit.data.profile import LiftedCache, ProfiledView, profile_view
from dffkit.data.sources import FittedSources, ImageCache
from dffkit.face.landmarks import dense_landmarks
from dffkit.face.model import FaceModel
from dffkit.face.render import Renderer
from dffkit.records import Record, record

__all__ = ["FillRow", "profiled_views", "fill_table"]


@record
class FillRow(Record):
    """How much of the profiled views at one rotation is filled rather than seen (means over the views).

    Attributes:
        rotation_deg: the yaw change, degrees.
        views: views measured.
        inpainted: share of the image inpainted.
        symmetric: share of the face's pixels coloured from the symmetric texture.

    Example:
        >>> FillRow(30.0, 16, 0.014, 0.1).rotation_deg
        30.0
    """

    rotation_deg: float
    views: int
    inpainted: float
    symmetric: float


def profiled_views(model: FaceModel, renderer: Renderer, sources: FittedSources, k: int,
                   rotations_deg: Sequence[float], size: int = 224) -> list[ProfiledView]:
    """Source image ``k`` turned by each of ``rotations_deg`` (yaw changes, degrees; 0 is the image itself;
    positive turns the face towards the image right).

    Args:
        sources: fitted sources (:func:`dffkit.data.sources.fit_sources`).
        k: the source's index.
        size: the views' side, pixels.

    Example:
        >>> from dffkit.examples import fitted
        >>> with Renderer() as r:
        ...     views = profiled_views(__import__("dffkit").load_default_model(), r, fitted(), 0, [0.0, 45.0], size=96)
        >>> [bool(v.arrays["annotated"]) for v in views], views[1].arrays["image"].shape
        ([True, False], (96, 96, 3))
    """
    lifted = LiftedCache(model, renderer, sources, ImageCache(sources), keep=1)(k)
    dense = dense_landmarks(model, 160)
    return [profile_view(lifted, model, renderer, sources.p_id[k], sources.p_exp[k], np.radians(r), size=size,
                         dense_idx=dense) for r in rotations_deg]


def fill_table(model: FaceModel, renderer: Renderer, sources: FittedSources, rotations_deg: Sequence[float],
               size: int = 224, max_sources: int | None = None) -> tuple[FillRow, ...]:
    """Per rotation, how much of a profiled view is filled rather than seen, over the sources.

    Each source image is turned *away from* the frontal view (the side its own yaw shows), as
    :func:`dffkit.data.profile.profile_sample` does.

    Example:
        >>> from dffkit import load_default_model
        >>> from dffkit.examples import fitted
        >>> with Renderer() as r:
        ...     rows = fill_table(load_default_model(), r, fitted(), [0.0, 60.0], size=96)
        >>> rows[0].inpainted < rows[1].inpainted
        True
    """
    n = len(sources) if max_sources is None else min(max_sources, len(sources))
    cache = LiftedCache(model, renderer, sources, ImageCache(sources), keep=1)
    per = {r: ([], []) for r in rotations_deg}
    for k in range(n):
        lifted = cache(k)
        side = 1.0 if sources.camera[k][2] >= 0 else -1.0  # keep turning the way the image already faces
        for r in rotations_deg:
            v = profile_view(lifted, model, renderer, sources.p_id[k], sources.p_exp[k], np.radians(side * r),
                             size=size)
            per[r][0].append(v.inpainted)
            per[r][1].append(v.symmetric)
    return tuple(FillRow(float(r), len(a), float(np.mean(a)), float(np.mean(b))) for r, (a, b) in per.items())
