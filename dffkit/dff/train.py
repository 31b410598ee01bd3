"""Training the DFF network (paper Sec. III-B) and evaluating it on held-out synthetic images.

``train`` reads a dataset written by ``dffkit synth``, labels its pixels with the cached random
segmentations, and optimises the U-Net and the segmentation heads with Adam on the multi-head
angular-softmax loss. It writes to ``out``:

    checkpoint.pt   network, heads, optimiser, step, config and RNG states (atomic; ``resume=True``
                    continues from it)
    log.csv         step, loss, accuracy, learning rate, seconds
    weights.pt      the network alone with its config (what :func:`dffkit.dff.features.load_weights` reads)

On a GPU it trains in bfloat16 autocast; under ``torchrun`` (WORLD_SIZE > 1) it runs data-parallel
(DDP), each rank reading its own shards.
"""

from __future__ import annotations

import csv
import math
import os
import time
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from dffkit.data.dataset import SynthDataset
from dffkit.dff.loss import SegmentationHeads, multi_head_loss
from dffkit.dff.net import NetConfig, UNet
from dffkit.dff.segment import load_segmentations
from dffkit.dff.weights import read_checkpoint, save_torch, save_weights
from dffkit.errors import DffkitError
from dffkit.face.model import load_default_model

__all__ = ["train", "evaluate_patches", "batches", "label_table"]


def label_table(config: NetConfig) -> torch.Tensor:
    """(S, T + 1) int64 patch of every triangle per segmentation, with a −1 column for triangle id −1."""
    segs = load_segmentations(load_default_model(), config.n_segmentations, config.n_patches, seed=0)
    lab = torch.from_numpy(segs.labels.astype(np.int64))
    return torch.cat([lab, torch.full((lab.shape[0], 1), -1, dtype=torch.int64)], dim=1)


def _resize(images: np.ndarray, ids: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    if images.shape[1] == size:
        return images, ids
    im = np.stack([cv2.resize(x, (size, size), interpolation=cv2.INTER_AREA) for x in images])
    tr = np.stack([cv2.resize(x, (size, size), interpolation=cv2.INTER_NEAREST) for x in ids])
    return im, tr


def batches(dataset: SynthDataset, size: int, batch_size: int, rng: np.random.Generator, rank: int = 0,
            world: int = 1) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless shuffled batches: shards in random order (this rank's share), samples shuffled within.

    Yields:
        images (B, 3, size, size) float in [0, 1] and triangle ids (B, size, size) int64.
    """
    n_shards = dataset.n_shards
    if n_shards < world:
        raise DffkitError(f"the dataset has {n_shards} shards for {world} ranks; synthesise more or use fewer GPUs")
    buf_im, buf_id = [], []
    while True:
        for k in rng.permutation(n_shards)[rank::world]:
            shard = dataset.shard(int(k))
            im, ids = _resize(shard["image"], shard["triangle_ids"], size)
            order = rng.permutation(len(im))
            buf_im.extend(im[order])
            buf_id.extend(ids[order])
            while len(buf_im) >= batch_size:
                x = torch.from_numpy(np.stack(buf_im[:batch_size])).permute(0, 3, 1, 2).float() / 255.0
                t = torch.from_numpy(np.stack(buf_id[:batch_size]).astype(np.int64))
                del buf_im[:batch_size], buf_id[:batch_size]
                yield x, t


def _labels(table: torch.Tensor, heads: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """(B, S, H, W) patch labels of the given heads from triangle ids (B, H, W)."""
    return table[heads][:, ids].permute(1, 0, 2, 3)


@torch.no_grad()
def evaluate_patches(net: nn.Module, heads: SegmentationHeads, dataset: SynthDataset, table: torch.Tensor,
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
        im, ids = _resize(np.stack([x.image for x in samples]), np.stack([x.triangle_ids for x in samples]), size)
        x = torch.from_numpy(im).permute(0, 3, 1, 2).float().div(255.0).to(device)
        f = net(x).float().permute(0, 2, 3, 1)  # (B, H, W, dim)
        lab = _labels(table, all_heads, torch.from_numpy(ids.astype(np.int64)))  # (B, S, H, W)
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


def train(config: NetConfig, data: str | Path, out: str | Path, steps: int | None = None, resume: bool = False,
          seed: int = 0, device: str | None = None, val_data: str | Path | None = None, ckpt_every: int = 200,
          log_every: int = 10, progress: bool = True) -> Path:
    """Train the DFF network on a synthetic dataset. Returns the path of ``weights.pt``.

    Args:
        config: network and optimisation settings.
        data: dataset folder written by ``dffkit synth``.
        out: output folder (checkpoint, log, weights).
        steps: optimisation steps; None for ``config.steps``.
        resume: continue from ``out/checkpoint.pt`` (its config must match).
        seed: seeds torch and the batch order.
        device: 'cpu', 'cuda', ...; None picks CUDA when available.
        val_data: a held-out dataset: its patch accuracy is recorded at the end.
    """
    rank, world = _ddp()
    steps = config.steps if steps is None else steps
    if steps < 1:
        raise DffkitError(f"steps must be >= 1, got {steps}")
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    if dev.type == "cuda" and world > 1:
        dev = torch.device("cuda", int(os.environ.get("LOCAL_RANK", 0)))
    out = Path(out)
    dataset = SynthDataset(data)
    if len(dataset) < config.batch_size:
        raise DffkitError(f"{data} has {len(dataset)} samples, fewer than one batch of {config.batch_size}")
    out.mkdir(parents=True, exist_ok=True)  # only once the inputs are known to be good: no empty folder on error
    torch.manual_seed(seed + rank)
    rng = np.random.default_rng([seed, rank])
    table = label_table(config)
    net = UNet(config).to(dev)
    heads = SegmentationHeads(config.n_segmentations, config.n_patches, config.dim, seed=seed).to(dev)
    opt = torch.optim.Adam([{"params": net.parameters()},
                            {"params": heads.parameters(), "lr": config.lr * config.head_lr_scale}],
                           lr=config.lr, weight_decay=config.weight_decay)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda k: 0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(k, steps) / steps)))
    step, elapsed = 0, 0.0
    ckpt_path = out / "checkpoint.pt"
    if resume and ckpt_path.is_file():
        ckpt = read_checkpoint(ckpt_path, config)
        net.load_state_dict(ckpt["net"])
        heads.load_state_dict(ckpt["heads"])
        opt.load_state_dict(ckpt["optimizer"])
        sched.load_state_dict(ckpt["scheduler"])
        step, elapsed = ckpt["step"], ckpt["elapsed"]
        rng = np.random.default_rng([seed, rank, step])
        torch.set_rng_state(ckpt["torch_rng"])
    elif ckpt_path.is_file() and rank == 0:
        raise DffkitError(f"{out} already holds a checkpoint; pass --resume to continue it or choose another --out")
    model_net: nn.Module = net
    if world > 1:
        model_net = nn.parallel.DistributedDataParallel(net, device_ids=[dev.index] if dev.type == "cuda" else None)
        heads = nn.parallel.DistributedDataParallel(heads, device_ids=[dev.index] if dev.type == "cuda" else None)
    heads_module = heads.module if world > 1 else heads
    stream = batches(dataset, config.size, config.batch_size, rng, rank, world)
    log_path = out / "log.csv"
    if rank == 0 and not (resume and log_path.is_file()):
        log_path.write_text("step,loss,accuracy,lr,seconds\n")
    use_amp = dev.type == "cuda"

    def save_checkpoint() -> None:
        if rank != 0:
            return
        state = {"config": config.to_dict(), "net": net.state_dict(), "heads": heads_module.state_dict(),
                 "optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "step": step, "elapsed": elapsed,
                 "torch_rng": torch.get_rng_state(), "data": str(data), "seed": seed}
        save_torch(ckpt_path, state)

    bar = tqdm(total=steps, initial=step, desc=f"train {config.name}", disable=not progress or rank != 0)
    g = torch.Generator().manual_seed(seed * 1000 + rank)
    t_last = time.perf_counter()
    while step < steps:
        net.train()
        x, ids = next(stream)
        if config.heads_per_step is None:
            hidx = torch.arange(config.n_segmentations)
        else:
            hidx = torch.randperm(config.n_segmentations, generator=g)[: config.heads_per_step]
        lab = _labels(table, hidx, ids)
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=use_amp):
            feats = model_net(x.to(dev, non_blocking=True))
        loss, acc = multi_head_loss(feats.float(), lab.to(dev), heads_module, hidx.to(dev), config.scale,
                                    config.pixels_per_image, generator=g)
        if world > 1:  # every rank must touch every heads parameter for DDP's gradient reduction
            loss = loss + 0.0 * heads.module.weight.sum()
        opt.zero_grad(set_to_none=True)
        loss.backward()
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
        meta = {"steps": step, "train_seconds": elapsed, "data": str(data), "n_train_samples": len(dataset),
                "seed": seed, "device": str(dev), "world_size": world}
        if val_data is not None:
            val = SynthDataset(val_data)
            acc = evaluate_patches(net, heads_module, val, table, device=str(dev))
            meta.update(val_data=str(val_data), n_val_samples=len(val), val_accuracy_mean=float(acc.mean()),
                        val_accuracy_per_segmentation=acc.tolist(), chance=1.0 / config.n_patches)
        save_weights(weights, net, meta)
    if world > 1:
        torch.distributed.barrier()
    return weights
