"""The source faces of synthesis (paper Sec. III-A, step 1): each image's 68 landmarks (``.pts`` / ``.mat``
beside it, else dlib's predictor) give the camera, identity and expression (:mod:`dffkit.face.fit`); its
colours give a per-vertex texture with the unseen side filled (:mod:`dffkit.face.texture`).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from tqdm import tqdm

from dffkit.data.photos import FaceImage, read_landmarks
from dffkit.errors import DffkitError
from dffkit.face.camera import Camera
from dffkit.face.fit import fit_landmarks
from dffkit.face.landmarks import contour_candidates
from dffkit.face.model import FaceModel, load_default_model
from dffkit.face.render import Renderer
from dffkit.face.texture import mirror_vertices, sample_texture, vertex_graph
from dffkit.images import read_image
from dffkit.threads import BlasLimit

__all__ = ["FittedSources", "fit_sources", "fit_sources_parallel", "ImageCache"]


@dataclass(frozen=True, eq=False)
class FittedSources:
    """The model fitted to K source face images, one row per image (arrays, saved as ``sources.npz``).

    Attributes:
        names, paths, splits: (K,) str: file name, resolved path and split of each image.
        p_id: (K, m1), p_exp: (K, m2) float32 model parameters.
        camera: (K, 6) float64 camera vectors (s, pitch, yaw, roll, tx, ty; radians, pixels).
        colors: (K, V, 3) uint8 per-vertex texture.
        nme: (K,) the fit's landmark NME (fraction of the landmark-box size).
        seen: (K,) the share of vertices coloured from the image.
        landmarks: (K, 68, 2) float32 the image's 68 landmarks, pixels.
    """

    names: np.ndarray
    paths: np.ndarray
    splits: np.ndarray
    p_id: np.ndarray
    p_exp: np.ndarray
    camera: np.ndarray
    colors: np.ndarray
    nme: np.ndarray
    seen: np.ndarray
    landmarks: np.ndarray

    def __len__(self) -> int:
        return int(self.names.shape[0])

    def camera_of(self, k: int) -> Camera:
        """Source ``k``'s camera."""
        return Camera.from_vector(self.camera[k])

    def yaw_deg(self) -> np.ndarray:
        """(K,) every source's fitted yaw, degrees."""
        return np.degrees(self.camera[:, 2])

    def to_arrays(self) -> dict[str, np.ndarray]:
        """The arrays by field name (what ``sources.npz`` holds)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> FittedSources:
        """From :meth:`to_arrays`' dict (or an open ``sources.npz``)."""
        missing = [f.name for f in fields(cls) if f.name not in arrays]
        if missing:
            raise DffkitError(f"the fitted sources lack {missing[0]!r}; delete sources.npz and rerun 'dffkit synth'")
        return cls(**{f.name: np.asarray(arrays[f.name]) for f in fields(cls)})

    @classmethod
    def load(cls, path: str | Path) -> FittedSources:
        """Read a ``sources.npz`` (no pickles)."""
        with np.load(path, allow_pickle=False) as z:
            return cls.from_arrays({k: z[k] for k in z.files})

    @classmethod
    def concat(cls, parts: list[FittedSources]) -> FittedSources:
        """The rows of several, in order."""
        return cls(**{f.name: np.concatenate([getattr(p, f.name) for p in parts]) for f in fields(cls)})

    def take(self, order: np.ndarray) -> FittedSources:
        """The rows ``order`` (K',) of these."""
        return FittedSources(**{f.name: getattr(self, f.name)[order] for f in fields(self)})


def fit_sources(model: FaceModel, images: list[FaceImage], progress: bool = True,
                warn=lambda msg: print(msg, file=sys.stderr)) -> FittedSources:
    """Fit the model and sample a texture for each image; an image that fails is skipped, and ``warn`` is told
    why in one line (``"NAME: reason"``).

    Example:
        >>> from dffkit.data.photos import default_images, list_images
        >>> src = fit_sources(load_default_model(), list_images(default_images(), split="test")[:2], progress=False)
        >>> len(src), src.p_id.shape[1], bool(src.nme.max() < 0.1)
        (2, 100, True)
    """
    cand = contour_candidates(model)
    graph, mirror = vertex_graph(model), mirror_vertices(model)
    landmarker = None
    why = ""
    rows: list[tuple] = []
    with Renderer() as renderer, BlasLimit()():  # one face's small solves on one BLAS thread (dffkit.threads)
        for face in tqdm(images, desc="fitting source images", disable=not progress):
            try:
                image = read_image(face.image)
                if face.landmarks is not None:
                    lm = read_landmarks(face.landmarks)
                else:
                    if landmarker is None:
                        from dffkit.detect import DlibLandmarker

                        landmarker = DlibLandmarker()
                    lm = landmarker.largest_face_landmarks(image, name=str(face.image))
                fit = fit_landmarks(model, lm, candidates=cand)
                shape = model.shape(fit.p_id, fit.p_exp)
                colors, seen = sample_texture(image, model, shape, fit.camera, renderer, graph, mirror)
            except DffkitError as exc:
                why = why or f"{face.image.name}: {exc}"
                warn(f"{face.image.name}: {exc}")
                continue
            rows.append((face.image.name, str(face.image.resolve()), face.split, fit.p_id, fit.p_exp,
                         fit.camera.to_vector(), colors, fit.nme, float(seen.mean()), lm.astype(np.float32)))
    if not rows:
        raise DffkitError(f"no usable face image: every one of the {len(images)} images was unreadable or had no face "
                          f"(first: {why})")
    cols = list(zip(*rows))
    return FittedSources(names=np.array(cols[0]), paths=np.array(cols[1]), splits=np.array(cols[2]),
                         p_id=np.stack(cols[3]), p_exp=np.stack(cols[4]), camera=np.stack(cols[5]),
                         colors=np.stack(cols[6]), nme=np.array(cols[7]), seen=np.array(cols[8]),
                         landmarks=np.stack(cols[9]))


def _fit_chunk(_state: None, images: list[FaceImage]) -> tuple[FittedSources | None, list[str]]:
    said: list[str] = []
    try:
        return fit_sources(load_default_model(), images, progress=False, warn=said.append), said
    except DffkitError:
        return None, said  # every image of this chunk failed


def _no_state() -> None:
    return None


def fit_sources_parallel(images: list[FaceImage], executor, progress: bool,
                         warn=lambda msg: print(msg, file=sys.stderr)) -> FittedSources:
    """:func:`fit_sources` on the workers of a :class:`dffkit.execution.Executor` (or on ``executor`` processes
    when given a number), in image order (``warn`` is told here of each skipped image)."""
    from dffkit.execution import make_executor

    ex = make_executor(executor) if isinstance(executor, int) else executor
    n_chunks = ex.width * 4
    chunks = [images[k::n_chunks] for k in range(n_chunks)]
    done = [r for _, r in tqdm(ex.map(_no_state, (), _fit_chunk, chunks), total=len(chunks),
                               desc="fitting source images", disable=not progress)]
    if isinstance(executor, int):
        ex.close()
    for _, said in done:
        for line in said:
            warn(line)
    parts = [p for p, _ in done if p is not None]
    if not parts:
        first = next((said[0] for _, said in done if said), "")
        raise DffkitError(f"no usable face image: every one of the {len(images)} images was unreadable or had no face "
                          f"(first: {first})")
    merged = FittedSources.concat(parts)
    rank = {str(face.image.resolve()): k for k, face in enumerate(images)}
    return merged.take(np.argsort([rank[p] for p in merged.paths], kind="stable"))  # the images' order


class ImageCache:
    """Callable k -> RGB image of source image k, a few kept in memory.

    Args:
        sources: fitted sources; image k is read from ``sources.paths[k]``.
        paths: image file name -> path, to read the images from where they are now instead (a dataset
            resumed on another machine).
    """

    def __init__(self, sources: FittedSources, paths: dict[str, str] | None = None, keep: int = 64) -> None:
        self.paths = [str(p) if paths is None else paths[str(n)] for n, p in zip(sources.names, sources.paths)]
        self.keep = keep
        self._images: dict[int, np.ndarray] = {}

    def __call__(self, k: int) -> np.ndarray:
        if k not in self._images:
            if len(self._images) >= self.keep:
                self._images.clear()
            self._images[k] = read_image(self.paths[k])
        return self._images[k]
