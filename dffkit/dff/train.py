"""Training the DFF network (paper Sec. III-B) and evaluating it on held-out synthetic images.

``train`` reads a dataset written by ``dffkit synth``, labels its pixels with the cached random
segmentations (:mod:`dffkit.dff.batches`), and optimises the U-Net and the segmentation heads with Adam
on the multi-head angular-softmax loss. It writes to ``out``:

    checkpoint.pt   network, heads, optimiser, scheduler, step and RNG states, every ``ckpt_every`` steps
                    (atomic; ``resume=True`` continues from it exactly: same batches, same sampling)
    log.csv         step, loss, accuracy, learning rate, seconds (each step once, also across resumes)
    weights.pt      the network alone with its config (what :func:`dffkit.dff.weights.load_weights` reads)

Every input is checked before anything is written, one process at a time writes a folder, and a run
that fails before its first checkpoint leaves nothing behind. On a GPU it trains in bfloat16 autocast;
under ``torchrun`` (WORLD_SIZE > 1) it runs data-parallel (DDP), each rank reading its own shards.
"""

from __future__ import annotations

import csv
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn
from tqdm import tqdm

from dffkit.atomic import owned_folder
from dffkit.data.dataset import SynthDataset
from dffkit.dff.batches import (
    DatasetUnion,
    batches,
    label_table,
    patch_labels,
    resize_samples,
)
from dffkit.dff.loss import SegmentationHeads, multi_head_loss
from dffkit.dff.net import NetConfig, UNet
from dffkit.dff.runs import (
    check_device,
    check_out,
    checked_dataset,
    checkpoint_to_resume,
    cosine_schedule,
    trim_log,
)
from dffkit.dff.weights import read_checkpoint, save_torch, save_weights
from dffkit.errors import DffkitError

__all__ = ["train", "evaluate_patches", "LOG_HEADER"]

LOG_HEADER = "step,loss,accuracy,lr,seconds\n"


@torch.no_grad()
def evaluate_patches(net: nn.Module, heads: SegmentationHeads, dataset: SynthDataset | DatasetUnion,
                     table: torch.Tensor,
                     n_images: int | None = None, batch_size: int = 8, device: str = "cpu") -> np.ndarray:
    """Top-1 patch accuracy per segmentation over every labelled pixel of held-out images.

    Returns:
        (S,) accuracy of each segmentation's head.
    """
    net.eval()
    size = net.config.size
    s = table.shape[0]
    correct = np.zeros(s)
    total = 0
    n = len(dataset) if n_images is None else min(n_images, len(dataset))
    all_heads = torch.arange(s)
    for start in range(0, n, batch_size):
        samples = [dataset[i] for i in range(start, min(n, start + batch_size))]
        im, ids = resize_samples(np.stack([x.image for x in samples]), np.stack([x.triangle_ids for x in samples]), size)
        x = torch.from_numpy(im).permute(0, 3, 1, 2).float().div(255.0).to(device)
        f = net(x).float().permute(0, 2, 3, 1)  # (B, H, W, dim)
        lab = patch_labels(table, all_heads, torch.from_numpy(ids.astype(np.int64)))  # (B, S, H, W)
        mask = lab[:, 0] >= 0
        feats = f[mask.to(device)]  # (N, dim)
        y = lab.permute(1, 0, 2, 3)[:, mask]  # (S, N)
        w = nn.functional.normalize(heads.weight, dim=-1).to(device)
        for k in range(s):
            correct[k] += (feats @ w[k].T).argmax(-1).cpu().eq(y[k]).sum().item()
        total += int(mask.sum())
    return correct / max(total, 1)


def _ddp() -> tuple[int, int]:
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world > 1 and not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend)
    rank = torch.distributed.get_rank() if world > 1 else 0
    return rank, world


def train(config: NetConfig, data: str | Path | Sequence[str | Path], out: str | Path, steps: int | None = None,
          resume: bool = False, seed: int = 0, device: str | None = None,
          val_data: str | Path | Sequence[str | Path] | None = None, ckpt_every: int = 200,
          log_every: int = 10, init: str | Path | None = None, progress: bool = True) -> Path:
    """Train the DFF network on a synthetic dataset. Returns the path of ``weights.pt``.

    Args:
        config: network and optimisation settings.
        data: dataset folder written by ``dffkit synth``, or several (read as one, e.g. profiled photos and
            renders).
        out: output folder (checkpoint, log, weights).
        steps: optimisation steps; None for ``config.steps``.
        resume: continue from ``out/checkpoint.pt`` (it must exist and its config must match).
        seed: seeds torch, the batch order and the pixel and head sampling.
        device: 'cpu', 'cuda', 'cuda:N'; None picks CUDA when available.
        val_data: held-out dataset folder(s): their patch accuracy is recorded at the end.
        ckpt_every: steps between checkpoints.
        log_every: steps between log rows.
        init: a weights file to start the network from (fine-tuning; its architecture must match);
            the segmentation heads start afresh.

    Raises:
        DffkitError: any bad input, found before anything is written.
    """
    rank, world = _ddp()
    steps = config.steps if steps is None else steps
    if steps < 1 or ckpt_every < 1 or log_every < 1:
        raise DffkitError(f"steps, ckpt_every and log_every must be >= 1, got {steps}, {ckpt_every}, {log_every}")
    dev = check_device(device)
    if dev.type == "cuda" and world > 1:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    out = Path(out)
    check_out(out)
    dataset = checked_dataset(data)
    if len(dataset) < config.batch_size:
        raise DffkitError(f"{data} has {len(dataset)} samples, fewer than one batch of {config.batch_size}")
    val = checked_dataset(val_data) if val_data is not None else None
    if val is not None and len(val) == 0:
        raise DffkitError(f"{val_data} holds no samples; finish it with 'dffkit synth' or drop --val")
    start = read_checkpoint(init, config)["net"] if init is not None else None
    ckpt = checkpoint_to_resume(out, resume, config, refuse_existing=rank == 0)
    if rank != 0:
        return _run(config, dataset, val, out, steps, ckpt, seed, dev, rank, world, ckpt_every, log_every, progress,
                    start=start)
    notice = (lambda msg: print(f"dffkit train: {msg}", file=sys.stderr)) if progress else None
    with owned_folder(out, "'dffkit train'", lambda f: (f / "checkpoint.pt").is_file(), notice=notice):
        # a run without a checkpoint is not worth resuming: what it wrote goes; a refused second writer
        # raises before it touches anything
        return _run(config, dataset, val, out, steps, ckpt, seed, dev, rank, world, ckpt_every, log_every,
                    progress, start=start)


def _run(config: NetConfig, dataset: DatasetUnion, val: DatasetUnion | None, out: Path, steps: int, ckpt: dict | None,
         seed: int, dev: torch.device, rank: int, world: int, ckpt_every: int, log_every: int, progress: bool,
         start: dict | None = None) -> Path:
    """The training loop of :func:`train`, its inputs checked."""
    torch.manual_seed(seed + rank)
    table = label_table(config)
    net = UNet(config)
    if start is not None:
        net.load_state_dict(start)
    net = net.to(dev)
    heads = SegmentationHeads(config.n_segmentations, config.n_patches, config.dim, seed=seed).to(dev)
    opt = torch.optim.Adam([{"params": net.parameters()},
                            {"params": heads.parameters(), "lr": config.lr * config.head_lr_scale}],
                           lr=config.lr, weight_decay=config.weight_decay)
    sched = cosine_schedule(opt, steps)
    g = torch.Generator().manual_seed(seed * 1000 + rank)  # head and pixel sampling
    step, elapsed = 0, 0.0
    log_path = out / "log.csv"
    if ckpt is not None:
        net.load_state_dict(ckpt["net"])
        heads.load_state_dict(ckpt["heads"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        step, elapsed = int(ckpt["step"]), float(ckpt["elapsed"])
        torch.set_rng_state(ckpt["torch_rng"])
        if "sampler_rng" in ckpt:
            g.set_state(ckpt["sampler_rng"])
        if rank == 0:
            trim_log(log_path, step, LOG_HEADER)
    elif rank == 0:
        log_path.write_text(LOG_HEADER)
    model_net: nn.Module = net
    if world > 1:
        model_net = nn.parallel.DistributedDataParallel(net, device_ids=[dev.index] if dev.type == "cuda" else None)
    stream = batches(dataset, config.size, config.batch_size, seed, rank, world, start_step=step)
    use_amp = dev.type == "cuda"

    def save_checkpoint() -> None:
        if rank == 0:
            save_torch(out / "checkpoint.pt", {
                "config": config.to_dict(), "net": net.state_dict(), "heads": heads.state_dict(),
                "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "step": step, "elapsed": elapsed,
                "torch_rng": torch.get_rng_state(), "sampler_rng": g.get_state(), "data": str(dataset.root),
                "seed": seed})

    bar = tqdm(total=steps, initial=step, desc=f"train {config.name}", disable=not progress or rank != 0)
    t_last = time.perf_counter()
    while step < steps:
        net.train()
        x, ids = next(stream)
        if config.heads_per_step is None:
            hidx = torch.arange(config.n_segmentations)
        else:
            hidx = torch.randperm(config.n_segmentations, generator=g)[: config.heads_per_step]
        lab = patch_labels(table, hidx, ids)
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_amp):
            feats = model_net(x.to(dev, non_blocking=True))
        loss, acc = multi_head_loss(feats.float(), lab.to(dev), heads, hidx.to(dev), config.scale,
                                    config.pixels_per_image, generator=g)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if world > 1:  # the heads live outside DDP (each rank samples its own): average their gradients here
            for p in heads.parameters():
                p.grad = torch.zeros_like(p) if p.grad is None else p.grad
                torch.distributed.all_reduce(p.grad)
                p.grad /= world
        opt.step()
        sched.step()
        step += 1
        now = time.perf_counter()
        elapsed += now - t_last
        t_last = now
        bar.update(1)
        if rank == 0 and (step % log_every == 0 or step == steps):
            with open(log_path, "a", newline="") as fh:
                csv.writer(fh).writerow([step, f"{loss.item():.5f}", f"{acc.item():.5f}",
                                         f"{sched.get_last_lr()[0]:.6g}", f"{elapsed:.1f}"])
            bar.set_postfix(loss=f"{loss.item():.3f}", acc=f"{acc.item():.3f}")
        if step % ckpt_every == 0 or step == steps:
            save_checkpoint()
    bar.close()
    weights = out / "weights.pt"
    if rank == 0:
        meta = {"steps": step, "train_seconds": elapsed, "data": str(dataset.root), "n_train_samples": len(dataset),
                "seed": seed, "device": str(dev), "world_size": world, "init": start is not None}
        if val is not None:
            acc = evaluate_patches(net, heads, val, table, device=str(dev))
            meta.update(val_data=str(val.root), n_val_samples=len(val), val_accuracy_mean=float(acc.mean()),
                        val_accuracy_per_segmentation=acc.tolist(), chance=1.0 / config.n_patches)
        save_weights(weights, net, meta)
    if world > 1:
        torch.distributed.barrier()
    return weights
