"""Chapter 3, the random CVT segmentations: the set's uniformity and cost, and figures of the patches."""

from __future__ import annotations

import time

import numpy as np

from dffkit.dff.segment import Segmentations, load_segmentations, pixel_labels, segmentation_stats
from dffkit.evaluation.results import SegmentationResults
from dffkit.evaluation.summaries import segmentation_summary
from dffkit.face.camera import frame_camera
from dffkit.face.model import FaceModel
from dffkit.face.render import Renderer
from dffkit.viz import grid_figure, label_image, new_figure, patch_colors

__all__ = ["load", "measure", "patches_figure", "carried_figure", "areas_figure"]


def load(model: FaceModel, n_segmentations: int, n_patches: int, seed: int = 0) -> tuple[Segmentations, float]:
    """The segmentation set (built, or read from the cache) and the seconds that took."""
    t0 = time.perf_counter()
    segs = load_segmentations(model, n_segmentations, n_patches, seed=seed, progress=False)
    return segs, time.perf_counter() - t0


def measure(model: FaceModel, renderer: Renderer, segs: Segmentations, load_s: float, size: int,
            repeats: int = 20) -> SegmentationResults:
    """The set's summary, with the milliseconds to label every pixel of one ``size``² render for all segmentations."""
    out = renderer.render(model.mean, model.triangles, frame_camera(model.mean[model.region()], size, yaw=1.0, fill=0.8),
                          size=size)
    t0 = time.perf_counter()
    for _ in range(repeats):
        pixel_labels(segs, out.triangle_ids)
    label_ms = (time.perf_counter() - t0) / repeats * 1e3
    return SegmentationResults(segmentation_summary(model, segs, label_ms, size), load_s)


def patches_figure(model: FaceModel, renderer: Renderer, segs: Segmentations, size: int, n_shown: int, seed: int = 0):
    """The first ``n_shown`` segmentations on the mean face (paper Fig. 4)."""
    colors = patch_colors(segs.n_patches, seed=seed)
    cam = frame_camera(model.mean[model.region()], size, yaw=0.35, fill=0.85)
    base = renderer.render(model.mean, model.triangles, cam, size=size)
    labels = pixel_labels(segs, base.triangle_ids)
    shown = [label_image(labels[k], colors, base.image) for k in range(min(n_shown, segs.n_segmentations))]
    return grid_figure(shown, cols=min(len(shown), 4), width=10)


def carried_figure(model: FaceModel, renderer: Renderer, segs: Segmentations, size: int, seed: int = 0):
    """The first segmentation carried by the topology to random faces at four yaws (paper Fig. 5)."""
    colors = patch_colors(segs.n_patches, seed=seed)
    rng = np.random.default_rng(seed)
    panels = []
    for yaw in (-60, -20, 20, 60):
        shape = model.shape(model.sample_identity(rng), model.sample_expression(rng))
        cam = frame_camera(shape[model.region()], size, yaw=np.radians(yaw), fill=0.8)
        out = renderer.render(shape, model.triangles, cam, size=size)
        panels.append(label_image(pixel_labels(segs, out.triangle_ids)[0], colors, out.image, alpha=0.8))
    return grid_figure(panels, cols=4, width=12)


def areas_figure(model: FaceModel, segs: Segmentations):
    """The distribution of patch areas over the mean patch area."""
    fig, ax = new_figure(6, 3)
    ax.hist(segmentation_stats(model, segs)["relative_areas"].ravel(), bins=60, color="tab:blue")
    ax.set(xlabel="patch area / mean patch area", ylabel="patches")
    return fig
