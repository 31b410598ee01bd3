"""Writing a synthetic dataset (``dffkit synth``): resumable, parallel, verified and locked.

Sample i of a dataset is a pure function of (seed, i) and the fitted sources, and a shard's bytes are a
pure function of its samples (:func:`dffkit.atomic.npz_bytes`), so:

* any worker process can write any shard, and a killed run resumes where it stopped with the same bytes
  as an uninterrupted one;
* a rerun verifies every shard the manifest lists as done against its recorded size and SHA-256, and
  rewrites the ones that fail before it reports the dataset complete;
* one process at a time writes a folder (:func:`dffkit.atomic.folder_lock`); a second is refused with
  the holder's pid;
* shards are written by workers (this process, a pool, or a Dask cluster: :mod:`dffkit.execution`) and
  verified by this process, the one writer of the manifest, against the size and SHA-256 the worker
  reported, before they enter the manifest.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dffkit.atomic import atomic_write, npz_bytes, owned_folder
from dffkit.data.dataset import FORMAT_VERSION, read_manifest, shard_name, shard_ok, write_manifest, write_shard
from dffkit.data.photos import default_images, list_images
from dffkit.data.profile import LiftedCache, profile_sample
from dffkit.data.sources import FittedSources, ImageCache, fit_sources, fit_sources_parallel
from dffkit.data.synth import SynthConfig, synthesize_sample
from dffkit.errors import DffkitError
from dffkit.execution import Executor, make_executor
from dffkit.face.landmarks import dense_landmarks
from dffkit.face.model import load_default_model
from dffkit.face.render import Renderer
from dffkit.threads import BlasLimit

__all__ = ["generate_dataset"]


class _Worker:
    """What one process needs to write shards: the model, a renderer, the sources and their images."""

    def __init__(self, out: str, image_paths: list[str], cfg: dict, seed: int) -> None:
        self.out = Path(out)
        self.model = load_default_model()
        self.renderer = Renderer()
        self.sources = FittedSources.load(self.out / "sources.npz")
        self.cfg = SynthConfig.from_dict(cfg)
        self.seed = seed
        self.dense_idx = dense_landmarks(self.model, self.cfg.n_dense)
        self.photo = ImageCache(self.sources, paths={Path(p).name: p for p in image_paths})
        self.lifted = LiftedCache(self.model, self.renderer, self.sources, self.photo)

    def sample(self, i: int) -> dict:
        if self.cfg.mode == "profile":
            return profile_sample(i, self.seed, self.model, self.renderer, self.sources, self.cfg, self.dense_idx,
                                  self.lifted)
        return synthesize_sample(i, self.seed, self.model, self.renderer, self.sources, self.cfg, self.dense_idx,
                                 self.photo)

    def write_shard(self, shard: int, start: int, stop: int) -> tuple[int, dict]:
        return shard, write_shard(self.out / shard_name(shard), [self.sample(i) for i in range(start, stop)])

    def close(self) -> None:
        self.renderer.close()


def _run_shard(worker: _Worker, job: tuple[int, int, int]) -> tuple[int, dict]:
    return worker.write_shard(*job)


def generate_dataset(out: str | Path, images: str | Path | None = None, n: int = 1000, size: int = 224,
                     seed: int = 0, workers: int = 2, split: str = "train", shard_size: int = 64,
                     config: SynthConfig | None = None, mode: str | None = None, progress: bool = True,
                     warn=None, cluster: str | None = None) -> Path:
    """Write a synthetic dataset of ``n`` samples to ``out`` (resumable; see :mod:`dffkit.data.dataset`).

    Args:
        out: the dataset folder (created; an existing one with the same config is verified and resumed).
        images: folder of face images (with .pts/.mat landmarks, or found by dlib); None for the sample
            vendored with dffkit.
        n: number of samples.
        size: image side, pixels.
        seed: sample i is a function of (seed, i).
        workers: processes; 0 or 1 runs in this process.
        split: which images to use: 'train', 'val', 'test' or 'all' (see :func:`dffkit.data.photos.image_split`).
        shard_size: samples per shard.
        config: the sampling distribution; None for defaults at ``size``.
        mode: 'render' (re-rendered textured faces) or 'profile' (rotated photos, :mod:`dffkit.data.profile`);
            None keeps ``config.mode``.
        warn: told in one line of each image that could not be used (None: they are counted in one line on
            stderr instead).
        cluster: a Dask cluster to write the shards on instead of ``workers`` ('local:N' or
            'tcp://HOST:PORT', :mod:`dffkit.execution`); ``out`` must be a folder every worker sees.

    Returns:
        The dataset folder, complete: every shard written and verified.

    Raises:
        DffkitError: bad arguments, no usable photo, another config or another writer in ``out``, a full
            disk. A folder this call created is removed again when it fails before writing a shard.
    """
    if n < 1:
        raise DffkitError(f"n must be >= 1, got {n}")
    if shard_size < 1:
        raise DffkitError(f"shard_size must be >= 1, got {shard_size}")
    if workers < 0:
        raise DffkitError(f"workers must be >= 0, got {workers}")
    cfg = config or SynthConfig(size=size)
    if cfg.size != size or (mode is not None and mode != cfg.mode):
        cfg = SynthConfig(**{**asdict(cfg), "size": size, "mode": mode or cfg.mode})
    image_dir = Path(images) if images is not None else default_images()
    chosen = list_images(image_dir, split=None if split == "all" else split)
    if not chosen:
        raise DffkitError(f"{image_dir} has no {'' if split == 'all' else split + ' '}face images "
                          "(.jpg/.png with .pts or .mat landmarks, or faces dlib can find)")
    def worth_keeping(folder: Path) -> bool:  # a finished shard is worth resuming from
        return any(folder.glob("shard-*.npz"))

    with owned_folder(out, "'dffkit synth'", worth_keeping, notice=_notice(progress)) as folder, BlasLimit(1)(), \
            make_executor(workers, cluster) as executor:
        # one BLAS thread per process (workers set their own): its small solves gain nothing from more,
        # and two runs side by side on a small machine would otherwise spin against each other
        _generate(folder, chosen, n, seed, executor, split, shard_size, cfg, progress, warn)
    return Path(out)


def _notice(progress: bool):
    return (lambda msg: print(f"dffkit synth: {msg}", file=sys.stderr)) if progress else None


def _generate(out: Path, chosen: list, n: int, seed: int, executor: Executor, split: str, shard_size: int,
              cfg: SynthConfig, progress: bool, warn=None) -> None:
    """The body of :func:`generate_dataset`, run while holding the folder's lock."""
    from dffkit import __version__

    model = load_default_model()
    config_doc = json.loads(json.dumps({"n": n, "seed": seed, "split": split, "shard_size": shard_size,
                                        "synth": asdict(cfg), "images": [p.image.name for p in chosen],
                                        "model": model.name}))
    old = read_manifest(out) if (out / "manifest.json").exists() else None
    if old is not None and "synth" in old.get("config", {}):  # field names of older versions
        old["config"]["synth"] = asdict(SynthConfig.from_dict(old["config"]["synth"]))
        if "photos" in old["config"]:
            old["config"]["images"] = old["config"].pop("photos")
        old["config"] = json.loads(json.dumps(old["config"]))
    if old is not None and old.get("config") != config_doc:
        raise DffkitError(f"{out} holds a dataset made with another config; choose another --out or delete it")
    executor.ready()  # a cluster starting in the background: its error now, before anything is written
    spath = out / "sources.npz"
    if not _sources_ok(spath):
        skipped: list[str] = []
        tell = warn or skipped.append
        sources = fit_sources_parallel(chosen, executor, progress, warn=tell) \
            if executor.width > 1 and len(chosen) >= 8 * executor.width else fit_sources(model, chosen, progress=progress, warn=tell)
        if skipped:
            print(f"dffkit synth: {len(skipped)} of {len(chosen)} images could not be used (first: {skipped[0]}); "
                  "--verbose names them all", file=sys.stderr)
        atomic_write(spath, npz_bytes(sources.to_arrays()))
    n_shards = -(-n // shard_size)
    jobs = [(k, k * shard_size, min(n, (k + 1) * shard_size)) for k in range(n_shards)]
    recorded = {s["file"]: s for s in (old or {}).get("shards", [])}
    shards = []
    for k, a, b in tqdm(jobs, desc="verifying shards", disable=not progress or old is None):
        entry = recorded.get(shard_name(k), {})
        ok = bool(entry.get("done")) and entry.get("count") == b - a and shard_ok(out / shard_name(k), entry)
        shards.append({"file": shard_name(k), "count": b - a, "done": ok,
                       **({k2: entry[k2] for k2 in ("bytes", "sha256") if k2 in entry} if ok else {})})
    manifest = {"format_version": FORMAT_VERSION, "dffkit": __version__, "config": config_doc, "shards": shards}
    write_manifest(out, manifest)
    todo = [j for j in jobs if not shards[j[0]]["done"]]
    init_args = (str(out), [str(p.image) for p in chosen], asdict(cfg), seed)
    bar = tqdm(total=n, initial=n - sum(b - a for _, a, b in todo), desc="synthesising", unit="img",
               disable=not progress)

    for _, (k, fields) in executor.map(_Worker, init_args, _run_shard, todo):
        if not shard_ok(out / shard_name(k), fields):
            raise DffkitError(f"{out / shard_name(k)} does not match the size and SHA-256 its worker reported; with "
                              "--cluster, --out must be a folder every worker and this machine see (shared storage)")
        shards[k].update(done=True, **fields)
        write_manifest(out, manifest)
        bar.update(shards[k]["count"])
    bar.close()


def _sources_ok(path: Path) -> bool:
    try:
        with np.load(path, allow_pickle=False) as z:
            return "colors" in z.files and len(z["names"]) > 0
    except Exception:  # noqa: BLE001 - missing or damaged: fit again
        return False
