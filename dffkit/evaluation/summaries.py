"""The summary tables of the book's chapters, computed here so that the notebooks only call and show:
the source-photo fit, a synthetic dataset, the segmentations, a trained network and its training log,
and the logit-scale experiment."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np

from dffkit.records import Record, record

__all__ = ["ModelSummary", "FitSummary", "DatasetSummary", "SegmentationSummary", "NetworkSummary", "TrainingLog",
           "LogitRun", "model_summary", "fit_summary", "dataset_summary", "segmentation_summary", "network_summary",
           "read_training_log", "logit_scale_runs", "render_speed"]


@record
class ModelSummary(Record):
    """The face model's size: vertices, triangles, identity modes m1, expression modes m2, landmarks.

    Example:
        >>> ModelSummary("ICT", 17202, 34000, 100, 53, 68).landmarks
        68
    """

    name: str
    vertices: int
    triangles: int
    identity_modes: int
    expression_modes: int
    landmarks: int


def model_summary(model) -> ModelSummary:
    """The size of a :class:`dffkit.face.model.FaceModel`.

    Example:
        >>> s = model_summary(__import__("dffkit").load_default_model())
        >>> s.identity_modes, s.expression_modes, s.landmarks
        (100, 53, 68)
    """
    return ModelSummary(model.name, model.n_vertices, model.n_triangles, model.n_identity, model.n_expression,
                        len(model.landmarks68))


@record
class FitSummary(Record):
    """How well the model fits the source images: landmark NME (fraction of the landmark-box size), median
    and 95th percentile, and the mean share of vertices textured from the image.

    Example:
        >>> FitSummary(32, 0.02, 0.04, 0.6).to_dict()["nme_median"]
        0.02
    """

    sources: int
    nme_median: float
    nme_p95: float
    textured_share: float


def fit_summary(sources) -> FitSummary:
    """The fit of :func:`dffkit.data.sources.fit_sources`' result.

    Example:
        >>> from dffkit.examples import fitted
        >>> s = fit_summary(fitted(2))
        >>> s.sources, bool(s.nme_median < 0.05)
        (2, True)
    """
    return FitSummary(int(len(sources)), float(np.median(sources.nme)), float(np.percentile(sources.nme, 95)),
                      float(np.mean(sources.seen)))


@record
class DatasetSummary(Record):
    """A synthetic dataset's size, throughput and pose coverage.

    Attributes:
        samples, size (image side, pixels), workers, wall_s (seconds, fitting included), samples_per_s,
        visible_landmarks (mean visible of the 68 per sample), large_yaw_share (share with |yaw| > 60°),
        yaw_deg: (N,) every sample's yaw.

    Example:
        >>> DatasetSummary(10, 96, 1, 2.0, 5.0, 60.0, 0.2, np.zeros(10)).samples_per_s
        5.0
    """

    samples: int
    size: int
    workers: int
    wall_s: float
    samples_per_s: float
    visible_landmarks: float
    large_yaw_share: float
    yaw_deg: np.ndarray


def dataset_summary(dataset, wall_s: float, workers: int) -> DatasetSummary:
    """A :class:`dffkit.data.dataset.SynthDataset`'s summary, given the seconds it took and its workers.

    Example:
        >>> import tempfile
        >>> from dffkit.data.dataset import SynthDataset
        >>> from dffkit.data.generate import generate_dataset
        >>> with tempfile.TemporaryDirectory() as d:
        ...     ds = SynthDataset(generate_dataset(f"{d}/ds", n=2, size=64, workers=0, progress=False))
        ...     s = dataset_summary(ds, wall_s=1.0, workers=1)
        >>> s.samples, s.size, s.yaw_deg.shape
        (2, 64, (2,))
    """
    yaws = np.degrees([s.camera.yaw for s in dataset])
    vis = np.array([s.visible68.mean() for s in dataset])
    return DatasetSummary(len(dataset), int(dataset[0].image.shape[0]), int(workers), float(wall_s),
                          len(dataset) / wall_s, 68 * float(vis.mean()), float((np.abs(yaws) > 60).mean()),
                          np.asarray(yaws))


@record
class SegmentationSummary(Record):
    """Uniformity and cost of a segmentation set (:func:`dffkit.dff.segment.segmentation_stats`).

    Attributes:
        segmentations, patches (per segmentation), face_triangles, min_nonempty (non-empty patches, min over
        segmentations), connected (every patch one connected component), area_cv_mean, area_cv_max (patch-area
        coefficient of variation), min_over_mean, max_over_mean (smallest and largest patch over the mean),
        lloyd_iterations (mean), label_ms (pixel labels of one image for all segmentations), label_size (its side).

    Example:
        >>> SegmentationSummary(4, 100, 13120, 100, True, 0.3, 0.4, 0.2, 2.0, 20.0, 1.5, 128).connected
        True
    """

    segmentations: int
    patches: int
    face_triangles: int
    min_nonempty: int
    connected: bool
    area_cv_mean: float
    area_cv_max: float
    min_over_mean: float
    max_over_mean: float
    lloyd_iterations: float
    label_ms: float
    label_size: int


def segmentation_summary(model, segmentations, label_ms: float, size: int) -> SegmentationSummary:
    """The summary of a segmentation set, with the measured labelling time of one ``size``² image.

    Example:
        >>> from dffkit.dff.segment import build_segmentations
        >>> from dffkit.face.model import load_default_model
        >>> model = load_default_model()
        >>> s = segmentation_summary(model, build_segmentations(model, 1, 20, progress=False), 1.0, 64)
        >>> s.segmentations, s.patches, s.connected
        (1, 20, True)
    """
    from dffkit.dff.segment import face_region_triangles, segmentation_stats

    stats = segmentation_stats(model, segmentations)
    return SegmentationSummary(
        segmentations=segmentations.n_segmentations, patches=segmentations.n_patches,
        face_triangles=len(face_region_triangles(model)), min_nonempty=int(stats["n_patches"].min()),
        connected=bool(stats["connected"].all()), area_cv_mean=float(stats["area_cv"].mean()),
        area_cv_max=float(stats["area_cv"].max()), min_over_mean=float(stats["min_over_mean"].min()),
        max_over_mean=float(stats["max_over_mean"].max()), lloyd_iterations=float(segmentations.iterations.mean()),
        label_ms=float(label_ms), label_size=int(size))


@record
class NetworkSummary(Record):
    """A weights file's config, size, training record and held-out patch accuracy.

    Attributes:
        config, input_size, widths, dim, segmentations, patches, logit_scale, parameters, training_samples,
        steps, train_min, device, val_samples, val_accuracy (mean over segmentations), val_accuracy_min,
        val_accuracy_max, chance (1 / patches).

    Example:
        >>> from dffkit.dff.weights import shipped_weights_path
        >>> network_summary(shipped_weights_path()).logit_scale
        16.0
    """

    config: str
    input_size: int
    widths: tuple[int, ...]
    dim: int
    segmentations: int
    patches: int
    logit_scale: float
    parameters: int
    training_samples: int | None
    steps: int | None
    train_min: float
    device: str | None
    val_samples: int | None
    val_accuracy: float
    val_accuracy_min: float
    val_accuracy_max: float
    chance: float


def network_summary(path: str | Path) -> NetworkSummary:
    """The summary of a weights file (read safely).

    Example:
        >>> from dffkit.dff.weights import shipped_weights_path
        >>> s = network_summary(shipped_weights_path())
        >>> s.dim, s.segmentations, s.patches
        (32, 100, 500)
    """
    from dffkit.dff.net import NetConfig, UNet
    from dffkit.dff.weights import read_checkpoint

    ck = read_checkpoint(path)
    cfg, meta = ck["config"], ck.get("meta", {})
    acc = np.array(meta.get("val_accuracy_per_segmentation", [np.nan]), np.float64)
    return NetworkSummary(
        config=cfg["name"], input_size=int(cfg["size"]), widths=tuple(int(w) for w in cfg["widths"]), dim=int(cfg["dim"]),
        segmentations=int(cfg["n_segmentations"]), patches=int(cfg["n_patches"]), logit_scale=float(cfg["scale"]),
        parameters=sum(p.numel() for p in UNet(NetConfig.from_dict(cfg)).parameters()),
        training_samples=meta.get("n_train_samples"), steps=meta.get("steps"),
        train_min=float(meta.get("train_seconds", float("nan"))) / 60, device=meta.get("device"),
        val_samples=meta.get("n_val_samples"), val_accuracy=float(np.nanmean(acc)),
        val_accuracy_min=float(np.nanmin(acc)), val_accuracy_max=float(np.nanmax(acc)), chance=1 / cfg["n_patches"])


@record
class TrainingLog(Record):
    """A training ``log.csv`` as columns: step, loss (sum over heads), sampled accuracy, learning rate, seconds.

    Example:
        >>> TrainingLog(np.arange(3), np.ones(3), np.zeros(3), np.zeros(3), np.arange(3)).step.tolist()
        [0, 1, 2]
    """

    step: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray
    lr: np.ndarray
    seconds: np.ndarray


def read_training_log(path: str | Path) -> TrainingLog:
    """A training ``log.csv`` (empty columns when the file is absent).

    Example:
        >>> from dffkit.dff.weights import shipped_weights_path
        >>> p = shipped_weights_path()
        >>> log = read_training_log(p.with_name(p.stem + "_log.csv"))
        >>> len(log.step) == len(log.loss) > 0
        True
    """
    p = Path(path)
    rows = list(csv.DictReader(open(p))) if p.is_file() else []
    return TrainingLog(*(np.array([float(r[k]) for r in rows]) for k in ("step", "loss", "accuracy", "lr", "seconds")))


@record
class LogitRun(Record):
    """A short training run at one logit scale: its loss per head over the steps and its last sampled accuracy.

    Example:
        >>> LogitRun(16.0, np.arange(2), np.array([6.2, 5.9]), 6.2, 5.9, 0.01).last_loss_per_head
        5.9
    """

    scale: float
    step: np.ndarray
    loss_per_head: np.ndarray
    first_loss_per_head: float
    last_loss_per_head: float
    last_accuracy: float


def logit_scale_runs(data: str | Path, out_root: str | Path, scales: list[float], steps: int, seed: int = 0,
                     config: str = "tiny") -> tuple[LogitRun, ...]:
    """Train a small config from scratch at each logit scale, with every other setting equal.

    Args:
        data: a dataset folder from ``dffkit synth``.
        out_root: where the runs go (one fresh folder per scale).
        scales: the logit scales compared.
        steps: steps per run.

    Example:
        >>> import tempfile
        >>> from dffkit.data.generate import generate_dataset
        >>> with tempfile.TemporaryDirectory() as d:
        ...     data = generate_dataset(f"{d}/ds", n=16, size=64, workers=0, shard_size=16, progress=False)
        ...     runs = logit_scale_runs(data, d, [1.0, 16.0], steps=2)
        >>> [r.scale for r in runs], len(runs[0].step) > 0
        ([1.0, 16.0], True)
    """
    import shutil

    from dffkit.dff.net import get_config
    from dffkit.dff.train import train

    out = []
    for s in scales:
        cfg = dataclasses.replace(get_config(config), scale=float(s))
        folder = Path(out_root) / f"run-{config}-scale{s:g}"
        shutil.rmtree(folder, ignore_errors=True)
        train(cfg, data, folder, steps=steps, seed=seed, progress=False, log_every=5)
        log = read_training_log(folder / "log.csv")
        per_head = log.loss / cfg.n_segmentations
        out.append(LogitRun(float(s), log.step, per_head, float(per_head[0]), float(per_head[-1]),
                            float(log.accuracy[-1])))
    return tuple(out)


def render_speed(renderer, model, size: int, frames: int, seed: int = 0) -> float:
    """Milliseconds per framed rendering of a new random face (identity, expression, yaw) at ``size``².

    Example:
        >>> from dffkit.face.model import load_default_model
        >>> from dffkit.face.render import Renderer
        >>> with Renderer() as r:
        ...     ms = render_speed(r, load_default_model(), 64, frames=2)
        >>> ms > 0
        True
    """
    import time

    from dffkit.viz import render_face

    rng = np.random.default_rng(seed)
    faces = [(model.sample_identity(rng), model.sample_expression(rng), rng.uniform(-1.5, 1.5)) for _ in range(frames)]
    render_face(renderer, model, size)  # warm-up
    t0 = time.perf_counter()
    for p_id, p_exp, yaw in faces:
        render_face(renderer, model, size, p_id=p_id, p_exp=p_exp, yaw=yaw)
    return (time.perf_counter() - t0) / max(frames, 1) * 1e3
