"""Distilling the DFF network into a narrower student (issue 25's faster network).

The student, a U-Net of the same depth with fewer channels (:data:`STUDENT_CONFIG`), learns to give the
teacher's unit descriptor at every pixel: the loss is the mean of 1 − cos(student, teacher) over the
pixels, face pixels (those the synthetic images label with a mesh triangle) weighing 1 and background
pixels :data:`BACKGROUND_WEIGHT` (the cascade samples the face and its silhouette). Both networks see the
same augmented image at ``side`` pixels, the side the alignment cascade shows the network its crops at
(:class:`dffkit.descriptors.dff.DffDescriptor`'s ``side``): a random square sub-crop of the samples (one
per batch: a share of their side in [0.8, 1], anywhere inside them), each mirrored half the time, with its
contrast and brightness changed by up to 20 and 10 %. The student learns no segmentation heads: its
descriptors are read by the cascade's regressors as the teacher's are.

``distill`` writes to ``out`` what :func:`dffkit.dff.train.train` writes: ``checkpoint.pt`` every
``ckpt_every`` steps (atomic; ``resume=True`` continues from it with the same batches), ``log.csv``
(step, loss, mean cosine, learning rate, seconds) and ``weights.pt`` (the student with its config; its
meta names the teacher by its SHA-256 and gives the held-out agreement).
"""

from __future__ import annotations

import csv
import hashlib
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from dffkit.atomic import owned_folder
from dffkit.dff.batches import DatasetUnion, batches
from dffkit.dff.config import NetConfig
from dffkit.dff.net import UNet
from dffkit.dff.runs import (
    check_device,
    check_out,
    checked_dataset,
    checkpoint_to_resume,
    cosine_schedule,
    trim_log,
)
from dffkit.dff.weights import (
    load_weights,
    save_torch,
    save_weights,
    shipped_weights_path,
)
from dffkit.errors import DffkitError

__all__ = ["STUDENT_CONFIG", "BACKGROUND_WEIGHT", "distill", "agreement", "augment"]

#: The student: the shipped ``cpu`` config's depth at half its widths and a little less at the bottom
#: (121k parameters against 392k; ``benchmarks/eval_student.py`` on a 2-core EPYC: 5.2 against 8.9 ms per crop).
STUDENT_CONFIG = NetConfig(name="cpu-student", size=128, widths=(8, 16, 32, 64), batch_size=16, lr=2e-3,
                           steps=5000)

#: The weight of a background pixel's disagreement against a face pixel's (1).
BACKGROUND_WEIGHT = 0.2

LOG_HEADER = "step,loss,cosine,lr,seconds\n"


def augment(x: torch.Tensor, ids: torch.Tensor, side: int, g: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
    """One batch as the student and the teacher see it (the module docstring's augmentation).

    Args:
        x: (B, 3, H, W) float images in [0, 1].
        ids: (B, H, W) triangle ids, −1 on the background.
        side: output side, pixels.
        g: the random generator (the only source of randomness).

    Returns:
        ((B, 3, side, side) images in [0, 1], (B, side, side) bool face mask).
    """
    b, _, h, w = x.shape
    share = 0.8 + 0.2 * float(torch.rand(1, generator=g))
    s = max(8, int(round(share * min(h, w))))
    x0 = int(torch.randint(0, w - s + 1, (1,), generator=g))
    y0 = int(torch.randint(0, h - s + 1, (1,), generator=g))
    img = F.adaptive_avg_pool2d(x[:, :, y0:y0 + s, x0:x0 + s], side)  # area interpolation, as the cascade's
    face = F.interpolate((ids[:, None, y0:y0 + s, x0:x0 + s] >= 0).float(), size=side, mode="nearest")[:, 0] > 0.5
    flip = torch.rand(b, generator=g) < 0.5
    img = torch.where(flip[:, None, None, None], img.flip(-1), img)
    face = torch.where(flip[:, None, None], face.flip(-1), face)
    gain = 1 + 0.4 * (torch.rand(b, 1, 1, 1, generator=g) - 0.5)
    bias = 0.2 * (torch.rand(b, 1, 1, 1, generator=g) - 0.5)
    mean = img.mean(dim=(1, 2, 3), keepdim=True)
    return ((img - mean) * gain + mean + bias).clamp(0, 1), face


def _loss(student: torch.Tensor, teacher: torch.Tensor, face: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(weighted mean of 1 − cos, mean cosine over face pixels) of (B, D, H, W) unit maps."""
    cos = (student * teacher).sum(1)  # (B, H, W)
    weight = torch.where(face, 1.0, BACKGROUND_WEIGHT)
    return ((1 - cos) * weight).sum() / weight.sum(), cos[face].mean() if face.any() else cos.mean()


@torch.no_grad()
def agreement(student: UNet, teacher: UNet, data: DatasetUnion, side: int = 112, n_images: int = 256,
              batch_size: int = 16) -> dict[str, float]:
    """How closely the student gives the teacher's descriptors on held-out images at ``side`` pixels, face
    pixels only: the mean cosine, its 5th percentile, and the share of pixels within 12° (the paper's dense
    matching threshold) and 30°.

    Returns:
        {'mean_cos', 'p5_cos', 'within_12deg', 'within_30deg', 'n_images'}.
    """
    student.eval()
    teacher.eval()
    cos_all = []
    n = min(n_images, len(data))
    for start in range(0, n, batch_size):
        samples = [data[i] for i in range(start, min(n, start + batch_size))]
        x = torch.from_numpy(np.stack([s.image for s in samples])).permute(0, 3, 1, 2).float() / 255.0
        ids = torch.from_numpy(np.stack([s.triangle_ids for s in samples]).astype(np.int64))
        img = F.adaptive_avg_pool2d(x, side)
        face = F.interpolate((ids[:, None] >= 0).float(), size=side, mode="nearest")[:, 0] > 0.5
        cos_all.append((student(img) * teacher(img)).sum(1)[face].numpy())
    c = np.concatenate(cos_all) if cos_all else np.zeros(0)
    return {"mean_cos": float(c.mean()), "p5_cos": float(np.percentile(c, 5)),
            "within_12deg": float((c >= np.cos(np.radians(12))).mean()),
            "within_30deg": float((c >= np.cos(np.radians(30))).mean()), "n_images": n}


def distill(data: str | Path | Sequence[str | Path], out: str | Path, config: NetConfig = STUDENT_CONFIG,
            teacher: str | Path | None = None, side: int = 112, steps: int | None = None, resume: bool = False,
            seed: int = 0, device: str | None = None, val_data: str | Path | Sequence[str | Path] | None = None,
            ckpt_every: int = 250, log_every: int = 10, progress: bool = True) -> Path:
    """Distil ``teacher`` (None: the shipped weights) into a student of ``config``. Returns ``weights.pt``.

    Args:
        data: dataset folder(s) written by ``dffkit synth`` (images and their triangle ids).
        out: output folder (checkpoint, log, weights).
        config: the student's config (its widths; size, batch size, learning rate and steps).
        teacher: the teacher's weights file.
        side: the side both networks see the images at, pixels (a multiple of 2**(depth-1)).
        steps: optimisation steps (None: ``config.steps``); resume: continue ``out/checkpoint.pt``.
        seed: seeds the student's initialisation, the batch order and the augmentation.
        device: 'cpu', 'cuda', 'cuda:N' (None: CUDA when available).
        val_data: held-out dataset folder(s): :func:`agreement` on them is recorded in the weights' meta.

    Raises:
        DffkitError: any bad input, found before anything is written.
    """
    steps = config.steps if steps is None else steps
    if steps < 1 or ckpt_every < 1 or log_every < 1:
        raise DffkitError(f"steps, ckpt_every and log_every must be >= 1, got {steps}, {ckpt_every}, {log_every}")
    if side % (2 ** (len(config.widths) - 1)):
        raise DffkitError(f"side {side} must be a multiple of {2 ** (len(config.widths) - 1)} for the student's depth")
    dev = check_device(device)
    out = Path(out)
    check_out(out)
    teacher_path = Path(teacher) if teacher is not None else shipped_weights_path()
    teacher_net = load_weights(teacher_path)
    dataset = checked_dataset(data)
    if len(dataset) < config.batch_size:
        raise DffkitError(f"{data} has {len(dataset)} samples, fewer than one batch of {config.batch_size}")
    val = checked_dataset(val_data) if val_data is not None else None
    ckpt = checkpoint_to_resume(out, resume, config)
    notice = (lambda msg: print(f"dffkit distill: {msg}", file=sys.stderr)) if progress else None
    with owned_folder(out, "'dffkit distill'", lambda f: (f / "checkpoint.pt").is_file(), notice=notice):
        return _run(config, teacher_net, hashlib.sha256(teacher_path.read_bytes()).hexdigest(), dataset, val, out,
                    side, steps, ckpt, seed, dev, ckpt_every, log_every, progress)


def _run(config: NetConfig, teacher: UNet, teacher_sha: str, dataset: DatasetUnion, val: DatasetUnion | None,
         out: Path, side: int, steps: int, ckpt: dict | None, seed: int, dev: torch.device, ckpt_every: int,
         log_every: int, progress: bool) -> Path:
    torch.manual_seed(seed)
    net = UNet(config).to(dev)
    teacher = teacher.to(dev).eval()
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    sched = cosine_schedule(opt, steps)
    g = torch.Generator().manual_seed(seed * 1000 + 1)
    step, elapsed = 0, 0.0
    log_path = out / "log.csv"
    if ckpt is not None:
        if ckpt.get("teacher_sha256") != teacher_sha or ckpt.get("side") != side:
            raise DffkitError(f"{out / 'checkpoint.pt'} distils another teacher or side; resume with the same "
                              "--teacher and --side, or choose another --out")
        net.load_state_dict(ckpt["net"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        step, elapsed = int(ckpt["step"]), float(ckpt["elapsed"])
        g.set_state(ckpt["sampler_rng"])
        trim_log(log_path, step, LOG_HEADER)
    else:
        log_path.write_text(LOG_HEADER)
    stream = batches(dataset, int(dataset[0].image.shape[0]), config.batch_size, seed, start_step=step)

    def save_checkpoint() -> None:
        save_torch(out / "checkpoint.pt", {
            "config": config.to_dict(), "net": net.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "step": step, "elapsed": elapsed, "sampler_rng": g.get_state(),
            "teacher_sha256": teacher_sha, "side": side, "data": str(dataset.root), "seed": seed})

    bar = tqdm(total=steps, initial=step, desc=f"distil {config.name}", disable=not progress)
    t_last = time.perf_counter()
    while step < steps:
        net.train()
        x, ids = next(stream)
        img, face = augment(x, ids, side, g)
        img, face = img.to(dev), face.to(dev)
        with torch.no_grad():
            target = teacher(img)
        loss, cos = _loss(net(img), target, face)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        now = time.perf_counter()
        elapsed += now - t_last
        t_last = now
        bar.update(1)
        if step % log_every == 0 or step == steps:
            with open(log_path, "a", newline="") as fh:
                csv.writer(fh).writerow([step, f"{loss.item():.5f}", f"{cos.item():.5f}",
                                         f"{sched.get_last_lr()[0]:.6g}", f"{elapsed:.1f}"])
            bar.set_postfix(loss=f"{loss.item():.4f}", cos=f"{cos.item():.4f}")
        if step % ckpt_every == 0 or step == steps:
            save_checkpoint()
    bar.close()
    meta = {"distilled_from_sha256": teacher_sha, "side": side, "steps": step, "train_seconds": elapsed,
            "data": str(dataset.root), "n_train_samples": len(dataset), "seed": seed, "device": str(dev)}
    if val is not None:
        meta.update(val_data=str(val.root), val_agreement=agreement(net.cpu(), teacher.cpu(), val, side))
    return save_weights(out / "weights.pt", net, meta)
