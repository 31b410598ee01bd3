"""Multi-segmentation angular-softmax loss (paper Sec. III-B, A-Softmax with m = 1).

Segmentation k has a head of unit class vectors h^k_j, one per patch j. For a labelled pixel p with
unit descriptor f_p in patch y_k(p),

    l_k(p) = −log softmax_j(scale · h^k_j · f_p)[y_k(p)],

averaged over the visible labelled pixels of each image, then over the images, and summed over the
segmentations. With unit vectors the cosines lie in [−1, 1]; with 500 classes a softmax over them can
never be confident (the best probability is e / (e + 499/e) ≈ 1.5%), so ``scale`` (a temperature, as in
NormFace / CosFace) stretches them; ``scale = 1`` is the paper's formula as written.

The exact loss uses every labelled pixel and every head: heads are processed in chunks under
activation checkpointing, so memory holds one chunk's logits at a time. A cheaper config samples
``pixels_per_image`` pixels and ``heads_per_step`` segmentations per step: an unbiased estimate of the
per-image mean (up to the heads' scaling, see :func:`multi_head_loss`), with more variance.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F
from torch.utils.checkpoint import checkpoint

__all__ = ["SegmentationHeads", "multi_head_loss", "sample_pixels"]


class SegmentationHeads(nn.Module):
    """The class vectors of every segmentation: (S, P, dim), normalised on use."""

    def __init__(self, n_segmentations: int, n_patches: int, dim: int, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        w = torch.randn(n_segmentations, n_patches, dim, generator=g)
        # Unit rows: the vectors are normalised on use, so their norm only sets how far an optimiser
        # step turns them; at randn's norm (~sqrt(dim)) Adam barely moves the heads off their random start.
        self.weight = nn.Parameter(F.normalize(w, dim=-1))

    def forward(self, features: torch.Tensor, heads: torch.Tensor) -> torch.Tensor:
        """Cosines of (N, dim) unit features with the classes of the given heads. Returns (len(heads), N, P)."""
        w = F.normalize(self.weight[heads], dim=-1)
        return torch.einsum("hpd,nd->hnp", w, features)


def sample_pixels(labels: torch.Tensor, per_image: int | None, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Pick labelled pixels of each image.

    Args:
        labels: (B, H, W) any segmentation's labels (−1 where no face), to find the labelled pixels.
        per_image: pixels to draw per image (with replacement), or None for all of them.

    Returns:
        (batch_index, flat_pixel_index): (N,) each; pixels of image b are ``flat[b_index == b]``.
    """
    b, h, w = labels.shape
    flat = labels.reshape(b, -1) >= 0
    if per_image is None:
        bi, pi = torch.nonzero(flat, as_tuple=True)
        return bi, pi
    counts = flat.sum(1)
    rows, cols = [], []
    for k in range(b):
        if counts[k] == 0:
            continue
        idx = torch.nonzero(flat[k], as_tuple=True)[0]
        pick = idx[torch.randint(len(idx), (per_image,), generator=generator)]
        rows.append(torch.full((per_image,), k, dtype=torch.long))
        cols.append(pick)
    if not rows:
        return torch.zeros(0, dtype=torch.long), torch.zeros(0, dtype=torch.long)
    return torch.cat(rows), torch.cat(cols)


def _chunk_logits(w: torch.Tensor, f_scaled: torch.Tensor) -> torch.Tensor:
    return torch.einsum("hpd,nd->hnp", F.normalize(w, dim=-1), f_scaled)


def _chunk_loss(w: torch.Tensor, f_scaled: torch.Tensor, y: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    logits = _chunk_logits(w, f_scaled)
    ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1), reduction="none").view(y.shape)
    return (ce * weight).sum()


#: Above this many logits per chunk, the chunk is recomputed in the backward pass instead of stored.
CHECKPOINT_ABOVE = 50_000_000


def multi_head_loss(features: torch.Tensor, labels: torch.Tensor, heads_module: SegmentationHeads,
                    heads: torch.Tensor, scale: float, pixels_per_image: int | None = None,
                    chunk: int = 10, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The DFF loss and the patch accuracy of a batch.

    Args:
        features: (B, dim, H, W) unit descriptors.
        labels: (B, S, H, W) patch labels of the S = len(heads) segmentations used, −1 where none.
        heads_module: the class vectors.
        heads: (S,) which segmentations the label channels are.
        scale: logit scale.
        pixels_per_image: sample this many labelled pixels per image, or None for all.
        chunk: heads per checkpointed chunk (memory: chunk × pixels × patches logits).

    Returns:
        (loss, accuracy): the loss summed over the S heads, each the mean over images of the mean over
        their labelled pixels, scaled by n_segmentations / S so that a sampled subset estimates the full
        sum; and the top-1 patch accuracy over the used pixels and heads (a float tensor, no gradient).
    """
    b, dim = features.shape[:2]
    bi, pi = sample_pixels(labels[:, 0], pixels_per_image, generator)
    if bi.numel() == 0:
        zero = features.sum() * 0.0
        return zero, torch.tensor(0.0)
    f = features.permute(0, 2, 3, 1).reshape(b, -1, dim)[bi, pi]  # (N, dim)
    y = labels.reshape(b, labels.shape[1], -1)[bi, :, pi].T.contiguous()  # (S, N)
    valid = y >= 0
    y = y.clamp(min=0)
    n_per_image = torch.bincount(bi, minlength=b).clamp(min=1).to(f.dtype)
    n_images = (torch.bincount(bi, minlength=b) > 0).sum().clamp(min=1)
    weight = valid.to(f.dtype) / n_per_image[bi][None, :] / n_images  # mean over pixels, then images
    total = f.new_zeros(())
    correct = 0
    w_all = heads_module.weight[heads]
    f_scaled = f * scale  # scaling the N features is cheaper than scaling the N x P logits
    for s in range(0, len(heads), chunk):
        w, ys, ws = w_all[s:s + chunk], y[s:s + chunk], weight[s:s + chunk]
        if torch.is_grad_enabled() and w.shape[0] * f.shape[0] * w.shape[1] > CHECKPOINT_ABOVE:
            total = total + checkpoint(_chunk_loss, w, f_scaled, ys, ws, use_reentrant=False)
            with torch.no_grad():
                pred = _chunk_logits(w, f_scaled).argmax(-1)
        else:
            logits = _chunk_logits(w, f_scaled)
            ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), ys.reshape(-1), reduction="none")
            total = total + (ce.view(ys.shape) * ws).sum()
            pred = logits.detach().argmax(-1)
        correct += ((pred == ys) & valid[s:s + chunk]).sum().item()
    total = total * (heads_module.weight.shape[0] / len(heads))
    acc = torch.tensor(correct / max(int(valid.sum()), 1))
    return total, acc
