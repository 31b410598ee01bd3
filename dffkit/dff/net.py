"""The DFF network: a U-Net that maps a face image to a unit 32-d descriptor per pixel (paper Fig. 1).

Encoder: ``depth`` stages of two 3x3 convolutions (batch norm, ReLU), each but the first preceded by a
2x2 max-pool. Decoder: symmetric stages, each a 2x2 transposed convolution (de-convolution) that
doubles the resolution, concatenation with the encoder map of that resolution (the shallow
features), then two 3x3 convolutions. A 1x1 convolution gives ``dim`` channels, L2-normalised per pixel.

Its configs are :mod:`dffkit.dff.config`'s (re-exported here).
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F

from dffkit.dff.config import CONFIGS, NetConfig, get_config

__all__ = ["NetConfig", "CONFIGS", "UNet", "get_config"]


def _block(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
        nn.Conv2d(cout, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True),
    )


class UNet(nn.Module):
    """U-Net descriptor network.

    Input: (B, 3, H, W) float RGB in [0, 1] (normalised inside). Output: (B, dim, H, W) unit vectors.

    Example:
        >>> net = UNet(get_config("tiny")).eval()
        >>> f = net(torch.rand(1, 3, 64, 64))
        >>> tuple(f.shape), bool(torch.allclose(f.norm(dim=1), torch.ones(1, 64, 64), atol=1e-5))
        ((1, 32, 64, 64), True)
    """

    def __init__(self, config: NetConfig) -> None:
        super().__init__()
        self.config = config
        w = config.widths
        self.register_buffer("mean", torch.tensor([0.5, 0.45, 0.4]).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor([0.25, 0.25, 0.25]).view(1, 3, 1, 1))
        self.down = nn.ModuleList([_block(3, w[0])] + [_block(w[k - 1], w[k]) for k in range(1, len(w))])
        self.upconv = nn.ModuleList([nn.ConvTranspose2d(w[k], w[k - 1], 2, stride=2) for k in range(len(w) - 1, 0, -1)])
        self.up = nn.ModuleList([_block(2 * w[k - 1], w[k - 1]) for k in range(len(w) - 1, 0, -1)])
        self.head = nn.Conv2d(w[0], config.dim, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = (x - self.mean) / self.std
        skips = []
        for k, block in enumerate(self.down):
            x = block(x if k == 0 else F.max_pool2d(x, 2))
            skips.append(x)
        for upconv, block, skip in zip(self.upconv, self.up, reversed(skips[:-1])):
            x = block(torch.cat([upconv(x), skip], dim=1))
        return F.normalize(self.head(x), dim=1)
