"""Training data synthesis from real photos (paper Sec. III-A).

1. Fit the source photos (:mod:`dffkit.data.sources`).
2. Re-render: each sample draws a source face, a new camera (yaw in [−90°, 90°]), new expression
   weights, lighting (ambient plus directional, Lambertian with the mesh normals) and a background
   (a crop of another photo or a procedural texture), then colour, blur and noise augmentation.
   For diversity a share of samples swaps the fitted identity for a random one from the identity prior
   (the source's texture is carried by the topology onto the new shape): the 1,207 photos of 300-W
   give fewer identities than the paper's 4,308, and random PCA identities widen the shape space
   without new photos.
3. Record the ground truth: parameters, camera, 68 and 160 landmark positions with z-buffer
   visibility, and the triangle-id map (:mod:`dffkit.data.dataset` documents the format).

Sample i depends only on (seed, i): any worker can make any shard, and an interrupted run resumes
without redoing finished shards (:mod:`dffkit.data.generate`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

import cv2
import numpy as np
from tqdm import tqdm

from dffkit.data.dataset import Sample
from dffkit.data.sources import FittedSources, ImageCache
from dffkit.errors import DffkitError
from dffkit.face.camera import frame_camera, project
from dffkit.face.landmarks import dense_landmarks
from dffkit.face.model import FaceModel, load_default_model
from dffkit.face.render import Light, Renderer

__all__ = ["SynthConfig", "synthesize_sample", "synthesize_pair", "generate_pairs", "example_samples", "procedural_background",
           "photo_background", "augment"]


@dataclass(frozen=True)
class SynthConfig:
    """The distribution samples are drawn from. Ranges are (low, high); angles in degrees (``_deg`` fields)."""

    size: int = 224
    yaw_deg: tuple[float, float] = (-90.0, 90.0)
    pitch_deg: tuple[float, float] = (-25.0, 25.0)
    roll_deg: tuple[float, float] = (-20.0, 20.0)
    fill: tuple[float, float] = (0.5, 0.75)  # face extent over the image side
    shift: float = 0.06  # centre jitter, share of the image side
    random_identity: float = 0.25  # share of samples with a random identity wearing the source texture
    keep_expression: float = 0.2  # share that keep the fitted expression
    n_expressions: int = 4  # blendshapes active in a new expression
    ambient: tuple[float, float] = (0.35, 0.85)
    light_tint: float = 0.1  # ± per-channel tint of the light
    photo_background: float = 0.6  # share with a photo crop behind; others get a procedural texture
    blur: float = 0.3  # share blurred (Gaussian, sigma up to 1.2 px)
    noise: tuple[float, float] = (0.0, 6.0)  # Gaussian noise std, 8-bit levels
    color_gain: float = 0.15  # ± per-channel gain
    n_dense: int = 160
    mode: str = "render"  # 'render' (textured bald heads) or 'profile' (rotated photos, dffkit.data.profile)
    keep_photo: float = 0.2  # profile: share of samples that are the source image itself, unrotated
    profile_tilt_deg: float = 10.0  # profile: ± pitch and roll change
    max_rotation_deg: float = 90.0  # profile: the largest yaw change from the image's own pose
    toward_frontal_deg: float = 15.0  # profile: the largest turn back towards the frontal view

    #: Field names of older dffkit versions (a dataset's manifest may carry them).
    LEGACY_NAMES: ClassVar[dict[str, str]] = {"yaw": "yaw_deg", "pitch": "pitch_deg", "roll": "roll_deg",
                                               "profile_tilt": "profile_tilt_deg", "max_rotation": "max_rotation_deg",
                                               "toward_frontal": "toward_frontal_deg"}

    def __post_init__(self) -> None:
        if not 16 <= self.size <= 1024:
            raise DffkitError(f"size must be in [16, 1024] pixels, got {self.size}")
        for name in ("yaw_deg", "pitch_deg", "roll_deg", "fill", "ambient", "noise"):
            lo, hi = getattr(self, name)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise DffkitError(f"{name} range must be finite (low, high) with low <= high, got {(lo, hi)}")
        if not (-180 <= self.yaw_deg[0] and self.yaw_deg[1] <= 180 and -90 <= self.pitch_deg[0]
                and self.pitch_deg[1] <= 90):
            raise DffkitError("yaw must lie in [-180, 180] and pitch in [-90, 90] degrees")
        if not (0 < self.fill[0] and self.fill[1] <= 1):
            raise DffkitError(f"fill must lie in (0, 1], got {self.fill}")
        if self.mode not in ("render", "profile"):
            raise DffkitError(f"mode must be 'render' or 'profile', got {self.mode!r}")

    @classmethod
    def from_dict(cls, doc: dict) -> SynthConfig:
        """A config from :func:`dataclasses.asdict`'s dict (lists as tuples; older field names renamed).

        Example:
            >>> SynthConfig.from_dict({"size": 64, "yaw": [-30, 30]}).yaw_deg
            (-30, 30)
        """
        return cls(**{cls.LEGACY_NAMES.get(k, k): tuple(v) if isinstance(v, list) else v for k, v in doc.items()})


# --- one sample ------------------------------------------------------------------------------------------

def procedural_background(rng: np.random.Generator, size: int) -> np.ndarray:
    """Smooth random colour noise plus a gradient: an (size, size, 3) uint8 texture."""
    cells = int(rng.integers(2, 12))
    base = rng.uniform(30, 225, 3)
    low = (base + rng.uniform(-70, 70, (cells, cells, 1)) + rng.uniform(-30, 30, (cells, cells, 3))).astype(np.float32)
    img = cv2.resize(low, (size, size), interpolation=cv2.INTER_CUBIC)
    ramp = np.linspace(-1, 1, size, dtype=np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    grad = np.cos(angle) * ramp[None, :] + np.sin(angle) * ramp[:, None]
    img += grad[..., None] * rng.uniform(0, 60, 3).astype(np.float32)
    img += rng.normal(0, rng.uniform(0, 12), img.shape).astype(np.float32)
    return np.clip(img, 0, 255).astype(np.uint8)


def photo_background(rng: np.random.Generator, photo: np.ndarray, size: int) -> np.ndarray:
    """A random square crop of a photo (mirrored half the time), resized to (size, size, 3) uint8."""
    h, w = photo.shape[:2]
    side = int(min(h, w) * rng.uniform(0.3, 1.0))
    y0, x0 = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = photo[y0:y0 + side, x0:x0 + side]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return cv2.resize(np.ascontiguousarray(crop), (size, size), interpolation=cv2.INTER_AREA)


def augment(image: np.ndarray, rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
    """Colour gain, optional Gaussian blur and Gaussian noise, as drawn from ``cfg``. Returns (H, W, 3) uint8."""
    img = image.astype(np.float32)
    img *= 1.0 + rng.uniform(-cfg.color_gain, cfg.color_gain, 3).astype(np.float32)
    if rng.random() < cfg.blur:
        img = cv2.GaussianBlur(img, (0, 0), sigmaX=float(rng.uniform(0.3, 1.2)))
    img += rng.normal(0, rng.uniform(*cfg.noise), img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def synthesize_sample(index: int, seed: int, model: FaceModel, renderer: Renderer, sources: FittedSources,
                      cfg: SynthConfig, dense_idx: np.ndarray, background_photo) -> dict[str, np.ndarray]:
    """Draw sample ``index`` of the dataset with ``seed``: a pure function of (seed, index) and the sources.

    Args:
        background_photo: callable k -> RGB uint8 image of source image k (for photo backgrounds).

    Returns:
        The sample's arrays, keyed as in :data:`dffkit.data.dataset.SAMPLE_KEYS`.
    """
    rng = np.random.default_rng([seed, index])
    src = int(rng.integers(len(sources)))
    p_id = model.sample_identity(rng) if rng.random() < cfg.random_identity else sources.p_id[src]
    return {"index": index, **_draw_view(rng, model, renderer, sources, cfg, dense_idx, background_photo, src, p_id)}


def synthesize_pair(index: int, seed: int, model: FaceModel, renderer: Renderer, sources: FittedSources,
                    cfg: SynthConfig, dense_idx: np.ndarray, background_photo,
                    max_yaw_change: float = 90.0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Two views of one face (same identity and texture) under different poses and expressions.

    The yaw change is drawn uniformly in [0, ``max_yaw_change``] degrees, with both yaws inside
    ``cfg.yaw_deg``; pitch, roll, expression, lighting and background are drawn independently per view.
    Pair ``index`` is a pure function of (seed, index) and the sources.

    Returns:
        The two views' arrays, keyed as :func:`synthesize_sample`'s.
    """
    rng = np.random.default_rng([seed, index, 2])
    src = int(rng.integers(len(sources)))
    p_id = model.sample_identity(rng) if rng.random() < cfg.random_identity else sources.p_id[src]
    lo, hi = cfg.yaw_deg
    change = float(rng.uniform(0.0, min(max_yaw_change, hi - lo)))
    sign = 1.0 if rng.random() < 0.5 else -1.0
    yaw_a = float(rng.uniform(max(lo, lo - sign * change), min(hi, hi - sign * change)))
    views = tuple({"index": index, **_draw_view(rng, model, renderer, sources, cfg, dense_idx, background_photo,
                                                src, p_id, yaw=yaw)} for yaw in (yaw_a, yaw_a + sign * change))
    return views


def _draw_view(rng: np.random.Generator, model: FaceModel, renderer: Renderer, sources: FittedSources,
               cfg: SynthConfig, dense_idx: np.ndarray, background_photo, src: int, p_id: np.ndarray,
               yaw: float | None = None) -> dict[str, np.ndarray]:
    """Render source ``src`` with identity ``p_id``: expression, camera (``yaw`` in degrees when given),
    light, background and augmentation drawn from ``rng``."""
    p_exp = sources.p_exp[src] if rng.random() < cfg.keep_expression else \
        model.sample_expression(rng, n_active=int(rng.integers(0, cfg.n_expressions + 1)))
    shape = model.shape(p_id, p_exp)
    drawn_yaw, pitch, roll = (np.radians(rng.uniform(*r)) for r in (cfg.yaw_deg, cfg.pitch_deg, cfg.roll_deg))
    yaw_rad = drawn_yaw if yaw is None else np.radians(yaw)
    cam = frame_camera(shape[model.region()], cfg.size, pitch=pitch, yaw=yaw_rad, roll=roll,
                       fill=float(rng.uniform(*cfg.fill)))
    shift = rng.uniform(-cfg.shift, cfg.shift, 2) * cfg.size
    cam = cam.replace(tx=cam.tx + shift[0], ty=cam.ty + shift[1])
    ambient = float(rng.uniform(*cfg.ambient))
    tint = 1.0 + rng.uniform(-cfg.light_tint, cfg.light_tint, 3)
    direction = rng.normal(size=3)
    direction[2] = abs(direction[2]) + 0.5  # light from the camera's hemisphere
    light = Light(ambient=tuple(ambient * tint), diffuse=tuple((1.05 - ambient) * tint), direction=tuple(direction))
    if rng.random() < cfg.photo_background:
        bg = photo_background(rng, background_photo(int(rng.integers(len(sources)))), cfg.size)
    else:
        bg = procedural_background(rng, cfg.size)
    out = renderer.render(shape, model.triangles, cam, size=cfg.size, colors=sources.colors[src], light=light,
                          background=bg)
    return {
        "source": src, "image": augment(out.image, rng, cfg),
        "p_id": np.asarray(p_id, np.float32), "p_exp": np.asarray(p_exp, np.float32), "camera": cam.to_vector(),
        "landmarks68": project(shape[model.landmarks68], cam).astype(np.float32),
        "visible68": out.vertex_visible[model.landmarks68],
        "dense": project(shape[dense_idx], cam).astype(np.float32), "visible_dense": out.vertex_visible[dense_idx],
        "triangle_ids": out.triangle_ids,
    }


def generate_pairs(sources: FittedSources, n: int, seed: int = 0, size: int = 224,
                   config: SynthConfig | None = None, max_yaw_change: float = 90.0, model: FaceModel | None = None,
                   progress: bool = True) -> list[tuple]:
    """``n`` view pairs of fitted source faces (:func:`synthesize_pair`), in memory.

    Args:
        sources: fitted faces from :func:`fit_sources`.
        n: number of pairs.
        seed: pair i is a function of (seed, i).
        size: image side, pixels.

    Returns:
        n tuples (view_a, view_b) of :class:`dffkit.data.dataset.Sample`.
    """
    if n < 1:
        raise DffkitError(f"n must be >= 1, got {n}")
    model = model or load_default_model()
    cfg = config or SynthConfig(size=size)
    if cfg.size != size:
        cfg = SynthConfig(**{**asdict(cfg), "size": size})
    dense_idx = dense_landmarks(model, cfg.n_dense)
    images = ImageCache(sources)
    out = []
    with Renderer() as renderer:
        for i in tqdm(range(n), desc="synthesising pairs", disable=not progress):
            a, b = synthesize_pair(i, seed, model, renderer, sources, cfg, dense_idx, images, max_yaw_change)
            out.append((Sample.from_arrays(a), Sample.from_arrays(b)))
    return out




def example_samples(n: int = 4, size: int = 128, seed: int = 0, n_sources: int = 2) -> list[Sample]:
    """``n`` rendered views of the first ``n_sources`` vendored held-out (test-split) face images, with their
    ground truth: small, quick data for examples and tests.

    Example:
        >>> views = example_samples(2, size=96)
        >>> len(views), views[0].image.shape, views[0].landmarks68.shape
        (2, (96, 96, 3), (68, 2))
    """
    from dffkit.data.photos import default_images, list_images
    from dffkit.data.sources import fit_sources

    model = load_default_model()
    src = fit_sources(model, list_images(default_images(), split="test", require_landmarks=True)[:n_sources],
                      progress=False)
    pairs = generate_pairs(src, -(-n // 2), seed=seed, size=size, model=model, progress=False)
    return [v for pair in pairs for v in pair][:n]
