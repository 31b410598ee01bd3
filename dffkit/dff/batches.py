"""The training data stream of the DFF network: images and per-pixel patch labels, in batches.

The stream is a pure function of (dataset, seed, rank, world): epoch e visits this rank's share of the
shards in the order ``default_rng([seed, e]).permutation``, and the samples of shard k in the order
``default_rng([seed, e, k]).permutation``; batch s is items s·B ... (s + 1)·B − 1 of that endless
sequence. So a run resumed at step s reads exactly the batches an uninterrupted run reads from step s.
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np
import torch

from dffkit.data.dataset import SynthDataset
from dffkit.dff.net import NetConfig
from dffkit.dff.segment import load_segmentations
from dffkit.errors import DffkitError
from dffkit.face.model import load_default_model

__all__ = ["batches", "label_table", "patch_labels", "resize_samples", "DatasetUnion"]


class DatasetUnion:
    """Several datasets read as one (e.g. profiled photos and renders): their shards in order, and their
    samples in order. Offers what training reads of a :class:`dffkit.data.dataset.SynthDataset`.

    Args:
        datasets: the datasets (at least one).
    """

    def __init__(self, datasets: list[SynthDataset]) -> None:
        if not datasets:
            raise DffkitError("no dataset given")
        self.datasets = list(datasets)
        self._shards = [(d, k) for d in self.datasets for k in range(d.n_shards)]
        self.entries = [d.entries[k] for d, k in self._shards]
        self._starts = np.cumsum([0] + [len(d) for d in self.datasets])

    @property
    def n_shards(self) -> int:
        """Shards of every dataset."""
        return len(self._shards)

    @property
    def root(self) -> str:
        """The datasets' folders, joined by '+'."""
        return "+".join(str(d.root) for d in self.datasets)

    def shard(self, k: int) -> dict[str, np.ndarray]:
        """The arrays of shard k of the union."""
        d, j = self._shards[k]
        return d.shard(j)

    def __len__(self) -> int:
        return int(self._starts[-1])

    def __getitem__(self, i: int):
        k = int(np.searchsorted(self._starts, i, side="right") - 1)
        return self.datasets[k][int(i - self._starts[k])]


def label_table(config: NetConfig) -> torch.Tensor:
    """(S, T + 1) int64 patch of every triangle per segmentation, with a −1 column for triangle id −1."""
    segs = load_segmentations(load_default_model(), config.n_segmentations, config.n_patches, seed=0)
    lab = torch.from_numpy(segs.labels.astype(np.int64))
    return torch.cat([lab, torch.full((lab.shape[0], 1), -1, dtype=torch.int64)], dim=1)


def patch_labels(table: torch.Tensor, heads: torch.Tensor, ids: torch.Tensor) -> torch.Tensor:
    """(B, S, H, W) patch labels of the given heads (S,) from triangle ids (B, H, W) and a :func:`label_table`."""
    return table[heads][:, ids].permute(1, 0, 2, 3)


def resize_samples(images: np.ndarray, ids: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Images (B, H, W, 3) by area and triangle ids (B, H, W) by nearest neighbour, to ``size``²."""
    if images.shape[1] == size:
        return images, ids
    im = np.stack([cv2.resize(x, (size, size), interpolation=cv2.INTER_AREA) for x in images])
    tr = np.stack([cv2.resize(x, (size, size), interpolation=cv2.INTER_NEAREST) for x in ids])
    return im, tr


def _epoch(n_shards: int, seed: int, epoch: int, rank: int, world: int) -> np.ndarray:
    return np.random.default_rng([seed, epoch]).permutation(n_shards)[rank::world]


def batches(dataset: SynthDataset | DatasetUnion, size: int, batch_size: int, seed: int = 0, rank: int = 0, world: int = 1,
            start_step: int = 0) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Endless shuffled batches, from batch ``start_step`` on (see the module docstring).

    Yields:
        images (B, 3, size, size) float in [0, 1] and triangle ids (B, size, size) int64.
    """
    n_shards = dataset.n_shards
    if n_shards < world:
        raise DffkitError(f"the dataset has {n_shards} shards for {world} ranks; synthesise more or use fewer GPUs")
    counts = [int(e["count"]) for e in dataset.entries]
    skip, epoch = start_step * batch_size, 0
    while skip >= (total := sum(counts[k] for k in _epoch(n_shards, seed, epoch, rank, world))):
        skip, epoch = skip - total, epoch + 1
    buf_im: list[np.ndarray] = []
    buf_id: list[np.ndarray] = []
    while True:
        for k in _epoch(n_shards, seed, epoch, rank, world):
            k = int(k)
            if skip >= counts[k]:
                skip -= counts[k]
                continue
            shard = dataset.shard(k)
            order = np.random.default_rng([seed, epoch, k]).permutation(counts[k])[skip:]
            skip = 0
            im, ids = resize_samples(shard["image"][order], shard["triangle_ids"][order], size)
            buf_im.extend(im)
            buf_id.extend(ids)
            while len(buf_im) >= batch_size:
                x = torch.from_numpy(np.stack(buf_im[:batch_size])).permute(0, 3, 1, 2).float() / 255.0
                t = torch.from_numpy(np.stack(buf_id[:batch_size]).astype(np.int64))
                del buf_im[:batch_size], buf_id[:batch_size]
                yield x, t
        epoch += 1
