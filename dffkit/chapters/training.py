"""Chapter 4, training the DFF: the shipped network's record and curves, its descriptors as colours, and short
training runs at two logit scales."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dffkit.boxes import landmark_box
from dffkit.data.dataset import SynthDataset
from dffkit.data.generate import generate_dataset
from dffkit.dff.features import features
from dffkit.dff.net import get_config
from dffkit.dff.weights import load_weights, shipped_weights_path
from dffkit.evaluation.results import TrainingResults
from dffkit.evaluation.summaries import LogitRun, logit_scale_runs, network_summary, read_training_log
from dffkit.viz import descriptor_rgb, grid_figure, new_figure

__all__ = ["weights_path", "measure", "curves_figure", "descriptors_figure", "logit_figure"]


def weights_path(weights: str | Path | None) -> Path:
    """The weights file shown: ``weights``, or the shipped one."""
    return shipped_weights_path() if weights is None else Path(weights)


def measure(weights: str | Path | None, ci_samples: int, ci_steps: int, scales: list[float], seed: int = 0,
            folder: str | Path = ".") -> TrainingResults:
    """The network's summary, and the logit-scale runs: the tiny config trained ``ci_steps`` steps at each of
    ``scales`` on ``ci_samples`` freshly synthesised 64² samples (in ``folder``)."""
    data = Path(folder) / "synth-ci"
    generate_dataset(data, n=ci_samples, size=64, seed=seed + 5, workers=0, shard_size=16, progress=False)
    return TrainingResults(network_summary(weights_path(weights)),
                           logit_scale_runs(data, folder, scales, ci_steps, seed=seed))


def curves_figure(weights: str | Path | None, chance: float):
    """The shipped network's training loss and sampled patch accuracy, from its training log."""
    p = weights_path(weights)
    log = read_training_log(p.with_name(p.stem + "_log.csv"))
    fig, axes = new_figure(10, 3, ncols=2)
    axes[0].plot(log.step, log.loss, lw=0.8)
    axes[1].plot(log.step, log.accuracy, lw=0.8)
    axes[0].set(xlabel="step", ylabel="loss (sum over heads)")
    axes[1].set(xlabel="step", ylabel="patch accuracy (sampled heads)")
    axes[1].axhline(chance, color="gray", ls="--", lw=0.8, label="chance")
    axes[1].legend()
    return fig


def descriptors_figure(weights: str | Path | None, size: int, seed: int = 0, folder: str | Path = ".", n: int = 4):
    """Held-out renders (top) and their DFF, one PCA projection to RGB for all (bottom)."""
    data = Path(folder) / "synth-val"
    val = SynthDataset(generate_dataset(data, n=8, size=size, seed=seed + 11, split="val", workers=0, progress=False))
    net = load_weights(weights_path(weights))
    feats = [features(s.image, landmark_box(s.landmarks68), net=net) for s in list(val)[:n]]
    return grid_figure([f.image for f in feats] + descriptor_rgb([f.descriptors for f in feats]), cols=len(feats))


def logit_figure(runs: tuple[LogitRun, ...]):
    """The loss per head of the short runs, against log(patches)."""
    fig, ax = new_figure(6, 3)
    for r in runs:
        ax.plot(r.step, r.loss_per_head, label=f"scale {r.scale:g}")
    ax.axhline(np.log(get_config("tiny").n_patches), color="gray", ls="--", lw=0.8, label="log(patches)")
    ax.set(xlabel="step", ylabel="loss per head")
    ax.legend()
    return fig
