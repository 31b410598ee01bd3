"""The DFF network: a U-Net that maps a face image to a unit 32-d descriptor per pixel (paper Fig. 1).

Encoder: ``depth`` stages of two 3x3 convolutions (batch norm, ReLU), each but the first preceded by a
2x2 max-pool. Decoder: symmetric stages, each a 2x2 transposed convolution (de-convolution) that
doubles the resolution, concatenation with the encoder map of that resolution (the shallow
features), then two 3x3 convolutions. A 1x1 convolution gives ``dim`` channels, L2-normalised per pixel.

Configs are named in :data:`CONFIGS`: ``paper`` follows the paper (224², widths 64-512, the exact loss),
``cpu`` is small enough to train on a 2-core CPU (128², widths 16-96, sampled pixels and heads).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from dffkit.errors import DffkitError

__all__ = ["NetConfig", "CONFIGS", "UNet", "get_config"]


@dataclass(frozen=True)
class NetConfig:
    """Network, loss and training settings of one named config.

    Attributes:
        name: config name.
        size: input image side, pixels (a multiple of 2**(depth-1)).
        widths: channels of the encoder stages (the decoder mirrors them); its length is the depth.
        dim: descriptor dimension (32 in the paper).
        n_segmentations, n_patches: the segmentation set the heads classify (100 x 500 in the paper).
        scale: logit scale (temperature) on the cosines h_j · f_p, which unit vectors bound to [-1, 1].
        pixels_per_image: labelled pixels sampled per image and step; None for all (the exact loss).
        heads_per_step: segmentations sampled per step; None for all (the exact loss).
        batch_size, lr, steps, weight_decay: optimisation (Adam).
        head_lr_scale: the heads' learning rate over ``lr`` (each head is updated only on the steps that
            sample it, so a sampled config needs it larger).
    """

    name: str
    size: int = 224
    widths: tuple[int, ...] = (64, 128, 256, 512)
    dim: int = 32
    n_segmentations: int = 100
    n_patches: int = 500
    scale: float = 16.0
    pixels_per_image: int | None = None
    heads_per_step: int | None = None
    batch_size: int = 16
    lr: float = 1e-3
    steps: int = 60000
    weight_decay: float = 0.0
    head_lr_scale: float = 1.0

    def __post_init__(self) -> None:
        if self.size % (2 ** (len(self.widths) - 1)):
            raise DffkitError(f"size {self.size} must be a multiple of {2 ** (len(self.widths) - 1)} for depth "
                              f"{len(self.widths)}")
        if self.dim < 2 or self.scale <= 0:
            raise DffkitError("dim must be >= 2 and scale > 0")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["widths"] = list(self.widths)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> NetConfig:
        d = dict(d)
        d["widths"] = tuple(d["widths"])
        return cls(**d)

    def architecture(self) -> dict:
        """The fields a checkpoint's weights depend on."""
        return {"size": self.size, "widths": list(self.widths), "dim": self.dim,
                "n_segmentations": self.n_segmentations, "n_patches": self.n_patches}


CONFIGS: dict[str, NetConfig] = {
    "paper": NetConfig(name="paper"),
    "cpu": NetConfig(name="cpu", size=128, widths=(16, 32, 64, 96), pixels_per_image=256, heads_per_step=25,
                     batch_size=8, lr=2e-3, steps=6000, head_lr_scale=10.0),
    "tiny": NetConfig(name="tiny", size=64, widths=(8, 16, 24), n_segmentations=8, n_patches=50,
                      pixels_per_image=128, heads_per_step=4, batch_size=4, lr=3e-3, steps=40),
}


def get_config(name: str) -> NetConfig:
    """A named config from :data:`CONFIGS`."""
    if name not in CONFIGS:
        raise DffkitError(f"unknown config {name!r}; choose one of {sorted(CONFIGS)}")
    return CONFIGS[name]


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
