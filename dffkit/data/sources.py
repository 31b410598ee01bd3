"""The source faces of synthesis (paper Sec. III-A, step 1): each photo's 68 landmarks (``.pts`` / ``.mat``
beside it, else dlib's predictor) give the camera, identity and expression (:mod:`dffkit.face.fit`); its
colours give a per-vertex texture with the unseen side filled (:mod:`dffkit.face.texture`).
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import multiprocessing.pool
import sys
from collections.abc import Iterator

import numpy as np
from tqdm import tqdm

from dffkit.data.photos import FacePhoto, read_landmarks
from dffkit.errors import DffkitError
from dffkit.face.fit import fit_landmarks
from dffkit.face.landmarks import contour_candidates
from dffkit.face.model import FaceModel, load_default_model
from dffkit.face.render import Renderer
from dffkit.face.texture import mirror_vertices, sample_texture, vertex_graph
from dffkit.images import read_image

__all__ = ["fit_sources", "fit_sources_parallel", "PhotoCache", "limit_threads", "worker_pool"]


def fit_sources(model: FaceModel, photos: list[FacePhoto], progress: bool = True,
                warn=lambda msg: print(msg, file=sys.stderr)) -> dict[str, np.ndarray]:
    """Fit the model and sample a texture for each photo; photos that fail are skipped with a warning.

    Returns:
        ``names``, ``paths``, ``splits`` (K,) str; ``p_id`` (K, m1), ``p_exp`` (K, m2) float32; ``camera`` (K, 6);
        ``colors`` (K, V, 3) uint8; ``nme`` (K,) fit landmark NME; ``seen`` (K,) share of vertices
        sampled from the photo; ``landmarks`` (K, 68, 2) float32 the photo's 68 landmarks, pixels.
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
            rows.append((ph.image.name, str(ph.image.resolve()), ph.split, fit.p_id, fit.p_exp, fit.camera.to_vector(),
                         colors, fit.nme, float(seen.mean()), lm.astype(np.float32)))
    if not rows:
        raise DffkitError("no usable face photo: every photo was unreadable or had no face")
    cols = list(zip(*rows))
    return {"names": np.array(cols[0]), "paths": np.array(cols[1]), "splits": np.array(cols[2]),
            "p_id": np.stack(cols[3]), "p_exp": np.stack(cols[4]), "camera": np.stack(cols[5]),
            "colors": np.stack(cols[6]), "nme": np.array(cols[7]), "seen": np.array(cols[8]),
            "landmarks": np.stack(cols[9])}


def _fit_chunk(photos: list[FacePhoto]) -> dict[str, np.ndarray] | None:
    try:
        return fit_sources(load_default_model(), photos, progress=False)
    except DffkitError:
        return None  # every photo of this chunk failed; warnings were printed


def fit_sources_parallel(photos: list[FacePhoto], workers: int, progress: bool) -> dict[str, np.ndarray]:
    """:func:`fit_sources` over ``workers`` processes, in photo order."""
    chunks = [photos[k::workers * 4] for k in range(workers * 4)]
    with worker_pool(workers, limit_threads) as pool:
        parts = list(tqdm(pool.imap(_fit_chunk, chunks), total=len(chunks), desc="fitting source photos",
                          disable=not progress))
    parts = [p for p in parts if p is not None]
    if not parts:
        raise DffkitError("no usable face photo: every photo was unreadable or had no face")
    merged = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    rank = {str(ph.image.resolve()): k for k, ph in enumerate(photos)}
    order = np.argsort([rank[p] for p in merged["paths"]], kind="stable")  # the photos' order, as one process
    return {k: v[order] for k, v in merged.items()}


@contextlib.contextmanager
def worker_pool(workers: int, initializer, initargs: tuple = ()) -> Iterator[mp.pool.Pool]:
    """A pool of ``workers`` spawned processes (each opens its own OpenGL context) that are let finish
    and exit on their own when the block ends normally, so that they release what they hold (their
    semaphores, their contexts); an error or an interrupt terminates them."""
    pool = mp.get_context("spawn").Pool(workers, initializer=initializer, initargs=initargs)
    try:
        yield pool
        pool.close()
    except BaseException:
        pool.terminate()
        raise
    finally:
        pool.join()


def limit_threads() -> None:
    """One BLAS / torch thread per worker process: more only oversubscribes the cores."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(1)



class PhotoCache:
    """Callable k -> RGB image of source photo k, a few kept in memory.

    Args:
        sources: fitted sources; photo k is read from ``sources["paths"][k]``.
        paths: photo file name -> path, to read the photos from where they are now instead (a dataset
            resumed on another machine).
    """

    def __init__(self, sources: dict[str, np.ndarray], paths: dict[str, str] | None = None, keep: int = 64) -> None:
        self.paths = [str(p) if paths is None else paths[str(n)] for n, p in zip(sources["names"], sources["paths"])]
        self.keep = keep
        self._images: dict[int, np.ndarray] = {}

    def __call__(self, k: int) -> np.ndarray:
        if k not in self._images:
            if len(self._images) >= self.keep:
                self._images.clear()
            self._images[k] = read_image(self.paths[k])
        return self._images[k]
