"""The summary tables of the book's chapters, computed here so that the notebooks only call and show:
the source-photo fit, a synthetic dataset, the segmentations, a trained network and its training log,
and the logit-scale experiment."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["fit_summary", "dataset_summary", "segmentation_summary", "network_summary", "read_training_log",
           "logit_scale_runs", "render_speed"]


def fit_summary(sources: dict[str, np.ndarray]) -> dict[str, Any]:
    """How well the model fits the source photos (:func:`dffkit.data.sources.fit_sources`): landmark NME (%)
    over the landmark-box size, and the share of vertices textured from the photo."""
    return {"source photos": int(len(sources["names"])),
            "landmark-fit NME, median (%)": round(100 * float(np.median(sources["nme"])), 2),
            "landmark-fit NME, 95th percentile (%)": round(100 * float(np.percentile(sources["nme"], 95)), 2),
            "vertices textured from the photo, mean (%)": round(100 * float(np.mean(sources["seen"])), 1)}


def dataset_summary(dataset, wall_s: float, workers: int) -> tuple[dict[str, Any], np.ndarray]:
    """A synthetic dataset's size, throughput and pose coverage.

    Args:
        dataset: a :class:`dffkit.data.dataset.SynthDataset`.
        wall_s: the seconds it took to make, fitting included.
        workers: the processes that made it.

    Returns:
        (the table, (N,) every sample's yaw in degrees).
    """
    yaws = np.degrees([s.camera.yaw for s in dataset])
    vis = np.array([s.visible68.mean() for s in dataset])
    size = dataset[0].image.shape[0]
    return ({"samples": len(dataset), "image size": f"{size}×{size}", "workers": workers,
             "wall time incl. fitting (s)": round(wall_s, 1),
             "samples per second incl. fitting": round(len(dataset) / wall_s, 1),
             "visible landmarks per sample, mean (of 68)": round(68 * float(vis.mean()), 1),
             "share of samples with |yaw| > 60°": round(float((np.abs(yaws) > 60).mean()), 3)}, yaws)


def segmentation_summary(model, segmentations, label_ms: float, size: int) -> dict[str, Any]:
    """Uniformity and cost of a segmentation set (:func:`dffkit.dff.segment.segmentation_stats`)."""
    from dffkit.dff.segment import face_region_triangles, segmentation_stats

    stats = segmentation_stats(model, segmentations)
    return {"segmentations": segmentations.n_segmentations,
            "patches per segmentation": segmentations.n_patches,
            "face-region triangles": len(face_region_triangles(model)),
            "non-empty patches (min over segmentations)": int(stats["n_patches"].min()),
            "every patch one connected component": bool(stats["connected"].all()),
            "patch-area CV, mean": round(float(stats["area_cv"].mean()), 3),
            "patch-area CV, max": round(float(stats["area_cv"].max()), 3),
            "smallest / mean patch area": round(float(stats["min_over_mean"].min()), 3),
            "largest / mean patch area": round(float(stats["max_over_mean"].max()), 3),
            "Lloyd iterations, mean": round(float(segmentations.iterations.mean()), 1),
            f"pixel labels, all segmentations of one {size}² image (ms)": round(label_ms, 2)}


def network_summary(path: str | Path) -> dict[str, Any]:
    """A weights file's config, size, training record and held-out patch accuracy (read safely)."""
    from dffkit.dff.net import NetConfig, UNet
    from dffkit.dff.weights import read_checkpoint

    ck = read_checkpoint(path)
    cfg, meta = ck["config"], ck.get("meta", {})
    acc = np.array(meta.get("val_accuracy_per_segmentation", [np.nan]), np.float64)
    return {"config": cfg["name"], "input size": cfg["size"], "widths": list(cfg["widths"]),
            "descriptor dimension": cfg["dim"], "segmentations × patches": f"{cfg['n_segmentations']} × {cfg['n_patches']}",
            "logit scale": cfg["scale"], "parameters": sum(p.numel() for p in UNet(NetConfig.from_dict(cfg)).parameters()),
            "training samples": meta.get("n_train_samples"), "steps": meta.get("steps"),
            "training time (min)": round(meta.get("train_seconds", float("nan")) / 60, 1), "device": meta.get("device"),
            "held-out images": meta.get("n_val_samples"),
            "held-out patch accuracy, mean over segmentations": round(float(np.nanmean(acc)), 4),
            "held-out patch accuracy, min / max": f"{np.nanmin(acc):.4f} / {np.nanmax(acc):.4f}",
            "chance": 1 / cfg["n_patches"]}


def read_training_log(path: str | Path) -> dict[str, np.ndarray]:
    """A training ``log.csv`` as columns (step, loss, accuracy, lr, seconds); empty arrays when absent."""
    p = Path(path)
    rows = list(csv.DictReader(open(p))) if p.is_file() else []
    keys = ("step", "loss", "accuracy", "lr", "seconds")
    return {k: np.array([float(r[k]) for r in rows]) for k in keys}


def logit_scale_runs(data: str | Path, out_root: str | Path, scales: list[float], steps: int, seed: int = 0,
                     config: str = "tiny") -> tuple[dict[str, dict[str, float]], dict[str, dict[str, np.ndarray]]]:
    """Train a small config from scratch at each logit scale, with every other setting equal.

    Args:
        data: a dataset folder from ``dffkit synth``.
        out_root: where the runs go (one fresh folder per scale).
        scales: the logit scales compared.
        steps: steps per run.

    Returns:
        (per scale: first and last loss per head and the last sampled accuracy; per scale: the log columns,
        with the loss per head).
    """
    import shutil

    from dffkit.dff.net import get_config
    from dffkit.dff.train import train

    summary, curves = {}, {}
    for s in scales:
        cfg = dataclasses.replace(get_config(config), scale=float(s))
        out = Path(out_root) / f"run-{config}-scale{s:g}"
        shutil.rmtree(out, ignore_errors=True)
        train(cfg, data, out, steps=steps, seed=seed, progress=False, log_every=5)
        log = read_training_log(out / "log.csv")
        log["loss per head"] = log["loss"] / cfg.n_segmentations
        curves[f"scale {s:g}"] = log
        summary[f"scale {s:g}"] = {"first loss per head": round(float(log["loss per head"][0]), 3),
                                   "last loss per head": round(float(log["loss per head"][-1]), 3),
                                   "last sampled accuracy": round(float(log["accuracy"][-1]), 3)}
    return summary, curves


def render_speed(renderer, model, size: int, frames: int, seed: int = 0) -> float:
    """Milliseconds per framed rendering of a new random face (identity, expression, yaw) at ``size``²."""
    import time

    from dffkit.viz import render_face

    rng = np.random.default_rng(seed)
    faces = [(model.sample_identity(rng), model.sample_expression(rng), rng.uniform(-1.5, 1.5)) for _ in range(frames)]
    render_face(renderer, model, size)  # warm-up
    t0 = time.perf_counter()
    for p_id, p_exp, yaw in faces:
        render_face(renderer, model, size, p_id=p_id, p_exp=p_exp, yaw=yaw)
    return (time.perf_counter() - t0) / max(frames, 1) * 1e3
