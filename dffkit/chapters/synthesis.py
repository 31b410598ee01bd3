"""Chapter 2, training data synthesis: the re-rendered and profiled datasets, their summaries, and figures of
the source fit, the profiling and the samples."""

from __future__ import annotations

import time
from pathlib import Path

import cv2
import numpy as np

from dffkit.data.dataset import SynthDataset
from dffkit.data.generate import generate_dataset
from dffkit.evaluation.profiling import fill_table, profiled_views
from dffkit.evaluation.results import SynthesisResults
from dffkit.evaluation.summaries import DatasetSummary, dataset_summary, fit_summary
from dffkit.face.model import FaceModel
from dffkit.face.render import Renderer
from dffkit.images import read_image
from dffkit.viz import draw_landmarks, grid_figure, label_panel, new_figure, render_face

__all__ = ["ROTATIONS_DEG", "make_dataset", "measure", "best_source", "source_views_figure", "profiling_figure",
           "samples_figure", "ground_truth_figure", "yaw_histogram"]

#: The rotations the profiling figure and fill table show, degrees.
ROTATIONS_DEG = (0.0, 30.0, 60.0, 90.0)


def make_dataset(folder: str | Path, images: str | Path | None, n: int, size: int, seed: int, workers: int,
                 mode: str = "render") -> tuple[SynthDataset, float]:
    """Write (or resume) a dataset with ``dffkit synth``'s code; returns it and the seconds it took."""
    t0 = time.perf_counter()
    generate_dataset(folder, images=images, n=n, size=size, seed=seed, workers=workers, mode=mode, progress=False)
    return SynthDataset(folder), time.perf_counter() - t0


def measure(model: FaceModel, renderer: Renderer, rendered: tuple[SynthDataset, float],
            profiled: tuple[SynthDataset, float], workers: int, size: int, fill_sources: int) -> SynthesisResults:
    """The chapter's record: the source fit, both datasets' summaries and the fill table over ``fill_sources``."""
    src = rendered[0].sources()
    return SynthesisResults(fit=fit_summary(src), synthesis=dataset_summary(rendered[0], rendered[1], workers),
                            profiled=dataset_summary(profiled[0], profiled[1], workers),
                            profile_fill=fill_table(model, renderer, src, ROTATIONS_DEG, size=size,
                                                    max_sources=fill_sources))


def best_source(dataset: SynthDataset) -> int:
    """The index of the source image the model fits best (lowest landmark NME)."""
    return int(np.argmin(dataset.sources().nme))


def source_views_figure(model: FaceModel, renderer: Renderer, dataset: SynthDataset, size: int, seed: int = 0):
    """The best-fitted source image, its textured face re-rendered at four yaws, and at three with new expressions."""
    src = dataset.sources()
    k = best_source(dataset)
    rng = np.random.default_rng(seed)
    views = [render_face(renderer, model, size, src.p_id[k], src.p_exp[k], yaw=np.radians(a), colors=src.colors[k])
             for a in (-70, -35, 35, 70)]
    views += [render_face(renderer, model, size, src.p_id[k], model.sample_expression(rng, n_active=3),
                          yaw=np.radians(a), colors=src.colors[k]) for a in (-20, 0, 20)]
    image = cv2.resize(read_image(src.paths[k]), (size, size), interpolation=cv2.INTER_AREA)
    return grid_figure([image] + views, cols=4, width=10)


def profiling_figure(model: FaceModel, renderer: Renderer, dataset: SynthDataset, size: int):
    """The best-fitted source profiled by each of :data:`ROTATIONS_DEG` away from frontal (top, with its 68
    landmarks), and the fitted face re-rendered at the same pose (bottom)."""
    src = dataset.sources()
    k = best_source(dataset)
    side = 1.0 if src.camera[k][2] >= 0 else -1.0
    prof = profiled_views(model, renderer, src, k, [side * r for r in ROTATIONS_DEG], size=size)
    top = [draw_landmarks(v.arrays["image"], v.arrays["landmarks68"], v.arrays["visible68"]) for v in prof]
    bottom = [render_face(renderer, model, size, src.p_id[k], src.p_exp[k], pitch=float(v.arrays["camera"][1]),
                          yaw=float(v.arrays["camera"][2]), roll=float(v.arrays["camera"][3]), colors=src.colors[k])
              for v in prof]
    return grid_figure(top + bottom, cols=len(prof), width=11)


def samples_figure(dataset: SynthDataset, n: int = 12, profiled: bool = False):
    """The first ``n`` samples with their 68 landmarks (a profiled sample is labelled by its rotation)."""
    shown = []
    for i in range(min(n, len(dataset))):
        s = dataset[i]
        img = draw_landmarks(s.image, s.landmarks68, s.visible68)
        if profiled:
            img = label_panel(img, "photo" if s.annotated else f"turned {s.rotation_deg:+.0f}°")
        shown.append(img)
    return grid_figure(shown, cols=4, width=10)


def ground_truth_figure(dataset: SynthDataset):
    """One sample's image, triangle-id map and 160 dense points."""
    s = dataset[0]
    ids = s.triangle_ids.astype(np.float64)
    ids[ids < 0] = np.nan
    fig, axes = new_figure(9, 3, ncols=3)
    axes[0].imshow(s.image)
    axes[1].imshow(ids % 997, cmap="nipy_spectral")
    axes[2].imshow(draw_landmarks(s.image, s.dense, s.visible_dense))
    for ax, title in zip(axes, ("image", "triangle ids", "160 dense points")):
        ax.set_title(title, fontsize=9)
        ax.axis("off")
    return fig


def yaw_histogram(rendered: DatasetSummary, profiled: DatasetSummary):
    """The yaw distributions of the two datasets."""
    fig, ax = new_figure(6, 3)
    ax.hist([rendered.yaw_deg, profiled.yaw_deg], bins=36, range=(-90, 90), color=["tab:blue", "tab:orange"],
            label=["re-rendered", "profiled"])
    ax.legend()
    ax.set(xlabel="yaw (degrees)", ylabel="samples")
    return fig
