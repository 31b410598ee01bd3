"""The synthetic dataset format and its reader.

A dataset is a folder:

    manifest.json        config, source photos, model, the list of shards and their sample counts
    sources.npz          the fitted source faces (parameters and per-vertex textures)
    shard-00000.npz ...  ``shard_size`` samples each, written atomically (temporary file, then rename)

Each shard is a NumPy ``.npz`` (zlib-compressed) holding, for its k samples:

    index (k,)                  global sample index i; sample i is a function of (seed, i) alone
    source (k,)                 index into sources.npz
    image (k, H, W, 3) uint8    RGB
    p_id (k, m1), p_exp (k, m2) float32 model parameters
    camera (k, 6) float64       w = (s, pitch, yaw, roll, tx, ty)
    landmarks68 (k, 68, 2)      float32 image positions of the 68 landmark vertices
    visible68 (k, 68) bool      their z-buffer visibility
    dense (k, 160, 2), visible_dense (k, 160)   the 160 dense landmark vertices, likewise
    triangle_ids (k, H, W) int32                visible triangle per pixel, −1 on the background

Barycentric coordinates are not stored: :meth:`Sample.barycentrics` recomputes them exactly from the
triangle ids, the shape and the camera (and so do depth or surface points).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from dffkit.camera import Camera, transform
from dffkit.errors import DffkitError
from dffkit.model import FaceModel

__all__ = ["Sample", "SynthDataset", "FORMAT_VERSION", "SAMPLE_KEYS"]

FORMAT_VERSION = 1
SAMPLE_KEYS = ("index", "source", "image", "p_id", "p_exp", "camera", "landmarks68", "visible68", "dense",
               "visible_dense", "triangle_ids")


@dataclass(frozen=True)
class Sample:
    """One synthetic image and its ground truth (see the module docstring for shapes)."""

    index: int
    source: int
    image: np.ndarray
    p_id: np.ndarray
    p_exp: np.ndarray
    camera: np.ndarray
    landmarks68: np.ndarray
    visible68: np.ndarray
    dense: np.ndarray
    visible_dense: np.ndarray
    triangle_ids: np.ndarray

    @property
    def w(self) -> Camera:
        """The camera as a :class:`dffkit.camera.Camera`."""
        return Camera.from_vector(self.camera)

    def vertices(self, model: FaceModel) -> np.ndarray:
        """(V, 3) the sample's shape S = S̄ + A_id p_id + A_exp p_exp, cm."""
        return model.shape(self.p_id, self.p_exp)

    def vertices_image(self, model: FaceModel) -> np.ndarray:
        """(V, 3) the shape in the image frame (x, y pixels; z towards the viewer)."""
        return transform(self.vertices(model), self.w)

    def barycentrics(self, model: FaceModel) -> np.ndarray:
        """(H, W, 3) float32 barycentric coordinates of each pixel in its triangle (0 on the background)."""
        from dffkit.render import barycentric_map

        return barycentric_map(self.vertices_image(model), model.triangles, self.triangle_ids)

    def surface_points(self, model: FaceModel) -> np.ndarray:
        """(H, W, 3) float32 model-space point of each pixel (cm), NaN on the background."""
        v = self.vertices(model)
        b = self.barycentrics(model)
        ids = self.triangle_ids
        out = np.full(ids.shape + (3,), np.nan, np.float32)
        m = ids >= 0
        out[m] = np.einsum("nk,nkc->nc", b[m], v[model.triangles[ids[m]]])
        return out


class SynthDataset:
    """Read a dataset written by ``dffkit synth`` (:func:`dffkit.synth.generate_dataset`).

    Indexable and iterable; ``dataset[i]`` is a :class:`Sample`. Shards are loaded on demand, the most
    recent one kept in memory, so sequential reading is fast.

    Example:
        >>> ds = SynthDataset("data/synth")        # doctest: +SKIP
        >>> s = ds[0]; s.image.shape               # doctest: +SKIP
        (224, 224, 3)
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        mpath = self.root / "manifest.json"
        if not mpath.is_file():
            raise DffkitError(f"{self.root} has no manifest.json; is it a dataset written by 'dffkit synth'?")
        try:
            self.manifest = json.loads(mpath.read_text())
        except json.JSONDecodeError:
            raise DffkitError(f"{mpath} is corrupt; regenerate the dataset") from None
        if self.manifest.get("format_version") != FORMAT_VERSION:
            raise DffkitError(f"{self.root} uses dataset format {self.manifest.get('format_version')}, "
                              f"this dffkit reads {FORMAT_VERSION}; regenerate it")
        shards = [s for s in self.manifest["shards"] if s.get("done")]
        self._files = [self.root / s["file"] for s in shards]
        counts = np.array([s["count"] for s in shards], np.int64)
        self._starts = np.r_[0, np.cumsum(counts)]
        self._load = lru_cache(maxsize=2)(self._read_shard)

    @property
    def config(self) -> dict:
        """The generation config recorded in the manifest."""
        return self.manifest["config"]

    @property
    def complete(self) -> bool:
        """True when every planned shard has been written."""
        return all(s.get("done") for s in self.manifest["shards"])

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _read_shard(self, k: int) -> dict[str, np.ndarray]:
        try:
            with np.load(self._files[k]) as z:
                return {key: z[key] for key in SAMPLE_KEYS}
        except (OSError, ValueError, KeyError) as exc:
            raise DffkitError(f"{self._files[k]} is unreadable ({exc.__class__.__name__}); rerun 'dffkit synth' "
                              "with the same --out to rewrite it") from None

    def __getitem__(self, i: int) -> Sample:
        if not -len(self) <= i < len(self):
            raise IndexError(f"sample {i} out of range for {len(self)} samples")
        i = int(i) % len(self)
        k = int(np.searchsorted(self._starts, i, side="right") - 1)
        shard = self._load(k)
        j = i - int(self._starts[k])
        return Sample(**{key: (shard[key][j].item() if shard[key].ndim == 1 else shard[key][j]) for key in SAMPLE_KEYS})

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def sources(self) -> dict[str, np.ndarray]:
        """The fitted source faces: names, splits, p_id, p_exp, camera, colors, nme."""
        with np.load(self.root / "sources.npz") as z:
            return {k: z[k] for k in z.files}
