"""What face profiling makes of a photo: a photo's views at several rotations, and how much of each
view is filled (inpainted background, symmetric face texture) rather than seen."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from dffkit.data.profile import LiftedCache, ProfiledView, profile_view
from dffkit.data.sources import PhotoCache
from dffkit.face.landmarks import dense_landmarks
from dffkit.face.model import FaceModel
from dffkit.face.render import Renderer

__all__ = ["profiled_views", "fill_table"]


def profiled_views(model: FaceModel, renderer: Renderer, sources: dict[str, np.ndarray], k: int,
                   rotations: Sequence[float], size: int = 224) -> list[ProfiledView]:
    """Source photo ``k`` turned by each of ``rotations`` (degrees of yaw; 0 is the photo itself).

    Args:
        sources: fitted sources with ``paths`` and ``landmarks`` (:func:`dffkit.data.sources.fit_sources`).
        k: the source's index.
        rotations: yaw changes, degrees; positive turns the face towards the image right.
        size: the views' side, pixels.
    """
    lifted = LiftedCache(model, renderer, sources, PhotoCache(sources), keep=1)(k)
    dense = dense_landmarks(model, 160)
    return [profile_view(lifted, model, renderer, sources["p_id"][k], sources["p_exp"][k], np.radians(r), size=size,
                         dense_idx=dense) for r in rotations]


def fill_table(model: FaceModel, renderer: Renderer, sources: dict[str, np.ndarray], rotations: Sequence[float],
               size: int = 224, max_sources: int | None = None) -> list[dict]:
    """Per rotation, how much of a profiled view is filled rather than seen, over the sources.

    Each source photo is turned *away from* the frontal view (the side its own yaw shows), as
    :func:`dffkit.data.profile.profile_sample` does.

    Returns:
        One row per rotation: the mean share (%) of the image inpainted and of the face's pixels coloured
        from the symmetric texture, with the number of views.
    """
    n = len(sources["names"]) if max_sources is None else min(max_sources, len(sources["names"]))
    cache = LiftedCache(model, renderer, sources, PhotoCache(sources), keep=1)
    per = {r: ([], []) for r in rotations}
    for k in range(n):
        lifted = cache(k)
        side = 1.0 if sources["camera"][k][2] >= 0 else -1.0  # keep turning the way the photo already faces
        for r in rotations:
            v = profile_view(lifted, model, renderer, sources["p_id"][k], sources["p_exp"][k], np.radians(side * r),
                             size=size)
            per[r][0].append(v.inpainted)
            per[r][1].append(v.symmetric)
    return [{"rotation (°)": r, "views": len(a), "image inpainted (%)": 100 * float(np.mean(a)),
             "face from the symmetric texture (%)": 100 * float(np.mean(b))} for r, (a, b) in per.items()]
