"""Training data synthesis from real photos (paper Sec. III-A).

1. Fit: each source photo's 68 landmarks (``.pts`` / ``.mat`` beside it, else dlib's predictor) give
   the camera, identity and expression (:mod:`dffkit.fit`); its colours give a per-vertex texture
   with the unseen side filled (:mod:`dffkit.texture`).
2. Re-render: each sample draws a source face, a new camera (yaw in [−90°, 90°]), new expression
   weights, lighting (ambient plus directional, Lambertian with the mesh normals) and a background
   (a crop of another photo or a procedural texture), then colour, blur and noise augmentation.
   For diversity a share of samples swaps the fitted identity for a random one from the identity prior
   (the source's texture is carried by the topology onto the new shape): the 1,207 photos of 300-W
   give fewer identities than the paper's 4,308, and random PCA identities widen the shape space
   without new photos.
3. Record the ground truth: parameters, camera, 68 and 160 landmark positions with z-buffer
   visibility, and the triangle-id map (:mod:`dffkit.data` documents the format).

Sample i depends only on (seed, i): any worker can make any shard, and an interrupted run resumes
without redoing finished shards.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

import cv2
import numpy as np
from tqdm.auto import tqdm

from dffkit.atomic import atomic_write
from dffkit.camera import frame_camera, project
from dffkit.data import FORMAT_VERSION
from dffkit.datasets import FacePhoto, list_photos, read_landmarks
from dffkit.errors import DffkitError
from dffkit.fit import fit_landmarks
from dffkit.images import read_image
from dffkit.landmarks import contour_candidates, dense_landmarks
from dffkit.model import FaceModel, load_default_model
from dffkit.render import Light, Renderer
from dffkit.texture import mirror_vertices, sample_texture, vertex_graph

__all__ = ["SynthConfig", "fit_sources", "synthesize_sample", "synthesize_pair", "generate_dataset", "default_photos",
           "PhotoCache", "generate_pairs"]


@dataclass(frozen=True)
class SynthConfig:
    """The distribution samples are drawn from. Angles in degrees; ranges are (low, high)."""

    size: int = 224
    yaw: tuple[float, float] = (-90.0, 90.0)
    pitch: tuple[float, float] = (-25.0, 25.0)
    roll: tuple[float, float] = (-20.0, 20.0)
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

    def __post_init__(self) -> None:
        if not 16 <= self.size <= 1024:
            raise DffkitError(f"size must be in [16, 1024] pixels, got {self.size}")
        for name in ("yaw", "pitch", "roll", "fill", "ambient", "noise"):
            lo, hi = getattr(self, name)
            if not (np.isfinite(lo) and np.isfinite(hi) and lo <= hi):
                raise DffkitError(f"{name} range must be finite (low, high) with low <= high, got {(lo, hi)}")
        if not (-180 <= self.yaw[0] and self.yaw[1] <= 180 and -90 <= self.pitch[0] and self.pitch[1] <= 90):
            raise DffkitError("yaw must lie in [-180, 180] and pitch in [-90, 90] degrees")
        if not (0 < self.fill[0] and self.fill[1] <= 1):
            raise DffkitError(f"fill must lie in (0, 1], got {self.fill}")


def default_photos() -> Path:
    """The photo sample vendored with dffkit (48 crops of 300-W AFW / HELEN-train with .pts)."""
    from importlib import resources

    return Path(str(resources.files("dffkit").joinpath("assets/photos")))


# --- fitting the sources ------------------------------------------------------------------------------

def fit_sources(model: FaceModel, photos: list[FacePhoto], progress: bool = True,
                warn=lambda msg: print(msg, file=sys.stderr)) -> dict[str, np.ndarray]:
    """Fit the model and sample a texture for each photo; photos that fail are skipped with a warning.

    Returns:
        ``names``, ``paths``, ``splits`` (K,) str; ``p_id`` (K, m1), ``p_exp`` (K, m2) float32; ``camera`` (K, 6);
        ``colors`` (K, V, 3) uint8; ``nme`` (K,) fit landmark NME; ``seen`` (K,) share of vertices
        sampled from the photo.
    """
    cand = contour_candidates(model)
    graph, mirror = vertex_graph(model), mirror_vertices(model)
    landmarker = None
    rows: list[tuple] = []
    with Renderer() as renderer:
        for ph in tqdm(photos, desc="fitting source photos", disable=not progress):
            try:
                image = read_image(ph.image)
                if ph.landmarks is not None:
                    lm = read_landmarks(ph.landmarks)
                else:
                    if landmarker is None:
                        from dffkit.detect import DlibLandmarker

                        landmarker = DlibLandmarker()
                    lm = landmarker.largest_face_landmarks(image, name=str(ph.image))
                fit = fit_landmarks(model, lm, candidates=cand)
                shape = model.shape(fit.p_id, fit.p_exp)
                colors, seen = sample_texture(image, model, shape, fit.camera, renderer, graph, mirror)
            except DffkitError as exc:
                warn(f"dffkit synth: skipping {ph.image.name}: {exc}")
                continue
            rows.append((ph.image.name, str(ph.image.resolve()), ph.split, fit.p_id, fit.p_exp, fit.camera.to_vector(), colors, fit.nme,
                         float(seen.mean())))
    if not rows:
        raise DffkitError("no usable face photo: every photo was unreadable or had no face")
    cols = list(zip(*rows))
    return {"names": np.array(cols[0]), "paths": np.array(cols[1]), "splits": np.array(cols[2]),
            "p_id": np.stack(cols[3]), "p_exp": np.stack(cols[4]), "camera": np.stack(cols[5]),
            "colors": np.stack(cols[6]), "nme": np.array(cols[7]), "seen": np.array(cols[8])}


def _fit_chunk(photos: list[FacePhoto]) -> dict[str, np.ndarray] | None:
    try:
        return fit_sources(load_default_model(), photos, progress=False)
    except DffkitError:
        return None  # every photo of this chunk failed; warnings were printed


def _fit_sources_parallel(photos: list[FacePhoto], workers: int, progress: bool) -> dict[str, np.ndarray]:
    """:func:`fit_sources` over ``workers`` processes, in photo order."""
    chunks = [photos[k::workers * 4] for k in range(workers * 4)]
    with mp.get_context("spawn").Pool(workers, initializer=_limit_threads) as pool:
        parts = list(tqdm(pool.imap(_fit_chunk, chunks), total=len(chunks), desc="fitting source photos",
                          disable=not progress))
    parts = [p for p in parts if p is not None]
    if not parts:
        raise DffkitError("no usable face photo: every photo was unreadable or had no face")
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    rank = {str(ph.image.resolve()): k for k, ph in enumerate(photos)}
    order = np.argsort([rank[p] for p in merged["paths"]], kind="stable")  # the photos' order, as one process
    return {k: v[order] for k, v in merged.items()}


def _limit_threads() -> None:
    """One BLAS / torch thread per worker process: more only oversubscribes the cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)


# --- one sample ------------------------------------------------------------------------------------------

def _procedural_background(rng: np.random.Generator, size: int) -> np.ndarray:
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


def _photo_background(rng: np.random.Generator, photo: np.ndarray, size: int) -> np.ndarray:
    h, w = photo.shape[:2]
    side = int(min(h, w) * rng.uniform(0.3, 1.0))
    y0, x0 = int(rng.integers(0, h - side + 1)), int(rng.integers(0, w - side + 1))
    crop = photo[y0:y0 + side, x0:x0 + side]
    if rng.random() < 0.5:
        crop = crop[:, ::-1]
    return cv2.resize(np.ascontiguousarray(crop), (size, size), interpolation=cv2.INTER_AREA)


def _augment(image: np.ndarray, rng: np.random.Generator, cfg: SynthConfig) -> np.ndarray:
    img = image.astype(np.float32)
    img *= 1.0 + rng.uniform(-cfg.color_gain, cfg.color_gain, 3).astype(np.float32)
    if rng.random() < cfg.blur:
        img = cv2.GaussianBlur(img, (0, 0), sigmaX=float(rng.uniform(0.3, 1.2)))
    img += rng.normal(0, rng.uniform(*cfg.noise), img.shape).astype(np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def synthesize_sample(index: int, seed: int, model: FaceModel, renderer: Renderer, sources: dict[str, np.ndarray],
                      cfg: SynthConfig, dense_idx: np.ndarray, background_photo) -> dict[str, np.ndarray]:
    """Draw sample ``index`` of the dataset with ``seed``: a pure function of (seed, index) and the sources.

    Args:
        background_photo: callable k -> RGB uint8 image of source photo k (for photo backgrounds).

    Returns:
        The sample's arrays, keyed as in :data:`dffkit.data.SAMPLE_KEYS`.
    """
    rng = np.random.default_rng([seed, index])
    src = int(rng.integers(len(sources["names"])))
    p_id = model.sample_identity(rng) if rng.random() < cfg.random_identity else sources["p_id"][src]
    return {"index": index, **_draw_view(rng, model, renderer, sources, cfg, dense_idx, background_photo, src, p_id)}


def synthesize_pair(index: int, seed: int, model: FaceModel, renderer: Renderer, sources: dict[str, np.ndarray],
                    cfg: SynthConfig, dense_idx: np.ndarray, background_photo,
                    max_yaw_change: float = 90.0) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """Two views of one face (same identity and texture) under different poses and expressions.

    The yaw change is drawn uniformly in [0, ``max_yaw_change``] degrees, with both yaws inside
    ``cfg.yaw``; pitch, roll, expression, lighting and background are drawn independently per view.
    Pair ``index`` is a pure function of (seed, index) and the sources.

    Returns:
        The two views' arrays, keyed as :func:`synthesize_sample`'s.
    """
    rng = np.random.default_rng([seed, index, 2])
    src = int(rng.integers(len(sources["names"])))
    p_id = model.sample_identity(rng) if rng.random() < cfg.random_identity else sources["p_id"][src]
    lo, hi = cfg.yaw
    change = float(rng.uniform(0.0, min(max_yaw_change, hi - lo)))
    sign = 1.0 if rng.random() < 0.5 else -1.0
    yaw_a = float(rng.uniform(max(lo, lo - sign * change), min(hi, hi - sign * change)))
    views = tuple({"index": index, **_draw_view(rng, model, renderer, sources, cfg, dense_idx, background_photo,
                                                src, p_id, yaw=yaw)} for yaw in (yaw_a, yaw_a + sign * change))
    return views


def _draw_view(rng: np.random.Generator, model: FaceModel, renderer: Renderer, sources: dict[str, np.ndarray],
               cfg: SynthConfig, dense_idx: np.ndarray, background_photo, src: int, p_id: np.ndarray,
               yaw: float | None = None) -> dict[str, np.ndarray]:
    """Render source ``src`` with identity ``p_id``: expression, camera (``yaw`` in degrees when given),
    light, background and augmentation drawn from ``rng``."""
    p_exp = sources["p_exp"][src] if rng.random() < cfg.keep_expression else \
        model.sample_expression(rng, n_active=int(rng.integers(0, cfg.n_expressions + 1)))
    shape = model.shape(p_id, p_exp)
    drawn_yaw, pitch, roll = (np.radians(rng.uniform(*r)) for r in (cfg.yaw, cfg.pitch, cfg.roll))
    yaw_rad = drawn_yaw if yaw is None else np.radians(yaw)
    cam = frame_camera(shape[model.vertices_of("face_narrow")], cfg.size, pitch=pitch, yaw=yaw_rad, roll=roll,
                       fill=float(rng.uniform(*cfg.fill)))
    shift = rng.uniform(-cfg.shift, cfg.shift, 2) * cfg.size
    cam = cam.replace(tx=cam.tx + shift[0], ty=cam.ty + shift[1])
    ambient = float(rng.uniform(*cfg.ambient))
    tint = 1.0 + rng.uniform(-cfg.light_tint, cfg.light_tint, 3)
    direction = rng.normal(size=3)
    direction[2] = abs(direction[2]) + 0.5  # light from the camera's hemisphere
    light = Light(ambient=tuple(ambient * tint), diffuse=tuple((1.05 - ambient) * tint), direction=tuple(direction))
    if rng.random() < cfg.photo_background:
        bg = _photo_background(rng, background_photo(int(rng.integers(len(sources["names"])))), cfg.size)
    else:
        bg = _procedural_background(rng, cfg.size)
    out = renderer.render(shape, model.triangles, cam, size=cfg.size, colors=sources["colors"][src], light=light,
                          background=bg)
    return {
        "source": src, "image": _augment(out.image, rng, cfg),
        "p_id": np.asarray(p_id, np.float32), "p_exp": np.asarray(p_exp, np.float32), "camera": cam.to_vector(),
        "landmarks68": project(shape[model.landmarks68], cam).astype(np.float32),
        "visible68": out.vertex_visible[model.landmarks68],
        "dense": project(shape[dense_idx], cam).astype(np.float32), "visible_dense": out.vertex_visible[dense_idx],
        "triangle_ids": out.triangle_ids,
    }


class PhotoCache:
    """Callable k -> RGB image of source photo k (read from ``sources["paths"]``, a few kept in memory)."""

    def __init__(self, sources: dict[str, np.ndarray], keep: int = 64) -> None:
        self.paths = [str(p) for p in sources["paths"]]
        self.keep = keep
        self._images: dict[int, np.ndarray] = {}

    def __call__(self, k: int) -> np.ndarray:
        if k not in self._images:
            if len(self._images) >= self.keep:
                self._images.clear()
            self._images[k] = read_image(self.paths[k])
        return self._images[k]


def generate_pairs(sources: dict[str, np.ndarray], n: int, seed: int = 0, size: int = 224,
                   config: SynthConfig | None = None, max_yaw_change: float = 90.0, model: FaceModel | None = None,
                   progress: bool = True) -> list[tuple]:
    """``n`` view pairs of fitted source faces (:func:`synthesize_pair`), in memory.

    Args:
        sources: fitted faces from :func:`fit_sources`.
        n: number of pairs.
        seed: pair i is a function of (seed, i).
        size: image side, pixels.

    Returns:
        n tuples (view_a, view_b) of :class:`dffkit.data.Sample`.
    """
    from dffkit.data import Sample

    if n < 1:
        raise DffkitError(f"n must be >= 1, got {n}")
    model = model or load_default_model()
    cfg = config or SynthConfig(size=size)
    if cfg.size != size:
        cfg = SynthConfig(**{**asdict(cfg), "size": size})
    dense_idx = dense_landmarks(model, cfg.n_dense)
    photos = PhotoCache(sources)
    out = []
    with Renderer() as renderer:
        for i in tqdm(range(n), desc="synthesising pairs", disable=not progress):
            a, b = synthesize_pair(i, seed, model, renderer, sources, cfg, dense_idx, photos, max_yaw_change)
            out.append((Sample(**a), Sample(**b)))
    return out


# --- the dataset -----------------------------------------------------------------------------------------

class _Worker:
    """What one process needs to write shards: the model, a renderer, the sources and the photos."""

    def __init__(self, out: str, photo_paths: list[str], cfg: dict, seed: int) -> None:
        self.out = Path(out)
        self.model = load_default_model()
        self.renderer = Renderer()
        with np.load(self.out / "sources.npz") as z:
            self.sources = {k: z[k] for k in z.files}
        self.cfg = SynthConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in cfg.items()})
        self.seed = seed
        self.dense_idx = dense_landmarks(self.model, self.cfg.n_dense)
        self.photo_paths = {Path(p).name: p for p in photo_paths}
        self._photos: dict[int, np.ndarray] = {}

    def photo(self, k: int) -> np.ndarray:
        if k not in self._photos:
            if len(self._photos) > 64:
                self._photos.clear()
            self._photos[k] = read_image(self.photo_paths[str(self.sources["names"][k])])
        return self._photos[k]

    def write_shard(self, shard: int, start: int, stop: int) -> int:
        rows = [synthesize_sample(i, self.seed, self.model, self.renderer, self.sources, self.cfg, self.dense_idx,
                                  self.photo) for i in range(start, stop)]
        arrays = {k: np.stack([np.asarray(r[k]) for r in rows]) for k in rows[0]}
        atomic_write(self.out / f"shard-{shard:05d}.npz", lambda fh: np.savez_compressed(fh, **arrays))
        return shard


_WORKER: _Worker | None = None  # one per worker process (set by the pool initializer)


def _init_worker(*args) -> None:
    global _WORKER
    _limit_threads()
    _WORKER = _Worker(*args)


def _run_shard(job: tuple[int, int, int]) -> int:
    assert _WORKER is not None
    return _WORKER.write_shard(*job)


def _write_json(path: Path, doc: dict) -> None:
    atomic_write(path, (json.dumps(doc, indent=1) + "\n").encode())


def generate_dataset(out: str | Path, photos: str | Path | None = None, n: int = 1000, size: int = 224,
                     seed: int = 0, workers: int = 2, split: str = "train", shard_size: int = 64,
                     config: SynthConfig | None = None, progress: bool = True) -> Path:
    """Write a synthetic dataset of ``n`` samples to ``out`` (resumable; see :mod:`dffkit.data`).

    Args:
        out: the dataset folder (created; an existing one with the same config is resumed).
        photos: folder of face photos (with .pts/.mat landmarks, or found by dlib); None for the sample
            vendored with dffkit.
        n: number of samples.
        size: image side, pixels.
        seed: sample i is a function of (seed, i).
        workers: processes; 0 or 1 runs in this process.
        split: which photos to use: 'train', 'val', 'test' or 'all' (see :func:`dffkit.datasets.photo_split`).
        shard_size: samples per shard.
        config: the sampling distribution; None for defaults at ``size``.

    Returns:
        The dataset folder.
    """
    if n < 1:
        raise DffkitError(f"n must be >= 1, got {n}")
    if shard_size < 1:
        raise DffkitError(f"shard_size must be >= 1, got {shard_size}")
    if workers < 0:
        raise DffkitError(f"workers must be >= 0, got {workers}")
    cfg = config or SynthConfig(size=size)
    if cfg.size != size:
        cfg = SynthConfig(**{**asdict(cfg), "size": size})
    photo_dir = Path(photos) if photos is not None else default_photos()
    chosen = list_photos(photo_dir, split=None if split == "all" else split)
    if not chosen:
        raise DffkitError(f"{photo_dir} has no {'' if split == 'all' else split + ' '}face photos "
                          "(.jpg/.png with .pts or .mat landmarks, or faces dlib can find)")
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DffkitError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    if not os.access(out, os.W_OK):
        raise DffkitError(f"{out}: output folder is not writable; choose another --out")

    from dffkit import __version__

    model = load_default_model()
    config_doc = {"n": n, "seed": seed, "split": split, "shard_size": shard_size, "synth": asdict(cfg),
                  "photos": [p.image.name for p in chosen], "model": model.name}
    mpath = out / "manifest.json"
    if mpath.is_file():
        old = json.loads(mpath.read_text())
        if old.get("config") != json.loads(json.dumps(config_doc)):
            raise DffkitError(f"{out} holds a dataset made with another config; choose another --out or delete it")
    spath = out / "sources.npz"
    if not spath.is_file():
        sources = _fit_sources_parallel(chosen, workers, progress) if workers > 1 and len(chosen) >= 8 * workers \
            else fit_sources(model, chosen, progress=progress)
        atomic_write(spath, lambda fh: np.savez_compressed(fh, **sources))
    n_shards = -(-n // shard_size)
    jobs = [(k, k * shard_size, min(n, (k + 1) * shard_size)) for k in range(n_shards)]
    shards = [{"file": f"shard-{k:05d}.npz", "count": b - a, "done": (out / f"shard-{k:05d}.npz").is_file()}
              for k, a, b in jobs]
    manifest = {"format_version": FORMAT_VERSION, "dffkit": __version__, "config": config_doc, "shards": shards}
    _write_json(mpath, manifest)
    todo = [j for j in jobs if not shards[j[0]]["done"]]
    init_args = (str(out), [str(p.image) for p in chosen], asdict(cfg), seed)
    bar = tqdm(total=n, initial=n - sum(b - a for _, a, b in todo), desc="synthesising", unit="img",
               disable=not progress)

    def done(k: int) -> None:
        shards[k]["done"] = True
        _write_json(mpath, manifest)
        bar.update(shards[k]["count"])

    if workers <= 1:
        worker = _Worker(*init_args)
        for job in todo:
            done(worker.write_shard(*job))
        worker.renderer.close()
    else:
        ctx = mp.get_context("spawn")  # each process opens its own OpenGL context
        with ctx.Pool(workers, initializer=_init_worker, initargs=init_args) as pool:
            for k in pool.imap_unordered(_run_shard, todo):
                done(k)
    bar.close()
    return out
