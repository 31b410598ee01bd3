"""The DFF network's named configs (architecture, loss and optimisation), with no dependency on torch so
that inference through ONNX Runtime can read them.

Configs are named in :data:`CONFIGS`: ``paper`` follows the paper (224², widths 64-512, the exact loss),
``cpu`` is small enough to train on a 2-core CPU (128², widths 16-96, sampled pixels and heads).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from dffkit.errors import DffkitError

__all__ = ["NetConfig", "CONFIGS", "get_config"]


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
