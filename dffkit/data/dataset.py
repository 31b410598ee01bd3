"""The synthetic dataset format: its reader and its writer, in one place.

A dataset is a folder:

    manifest.json        config, source images, model, and the list of shards with their sample counts,
                         byte sizes and SHA-256 checksums
    sources.npz          the fitted source faces (parameters and per-vertex textures)
    shard-00000.npz ...  ``shard_size`` samples each, written atomically (temporary file, then rename)
    .lock                held by the one process writing the folder (:func:`dffkit.atomic.folder_lock`)

Each shard is a NumPy ``.npz`` (zlib-compressed, with fixed zip timestamps so that the same samples give
the same bytes) holding, for its k samples:

    index (k,)                  global sample index i; sample i is a function of (seed, i) alone
    source (k,)                 index into sources.npz
    image (k, H, W, 3) uint8    RGB
    p_id (k, m1), p_exp (k, m2) float32 model parameters
    camera (k, 6) float64       w = (s, pitch, yaw, roll, tx, ty)
    landmarks68 (k, 68, 2)      float32 image positions of the 68 landmark vertices
    visible68 (k, 68) bool      their z-buffer visibility
    dense (k, 160, 2), visible_dense (k, 160)   the 160 dense landmark vertices, likewise
    triangle_ids (k, H, W) int32                visible triangle per pixel, −1 where no face triangle

Barycentric coordinates are not stored: :meth:`Sample.barycentrics` recomputes them exactly from the
triangle ids, the shape and the camera (and so do depth or surface points). Every file is read with
``allow_pickle=False``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from dffkit.atomic import atomic_write, npz_bytes
from dffkit.errors import DffkitError
from dffkit.face.camera import Camera, transform
from dffkit.face.model import FaceModel

if TYPE_CHECKING:
    from dffkit.data.sources import FittedSources

__all__ = ["Sample", "SynthDataset", "FORMAT_VERSION", "SAMPLE_KEYS", "OPTIONAL_KEYS", "shard_name",
           "write_shard", "read_manifest", "write_manifest", "shard_ok", "REPAIR"]

FORMAT_VERSION = 1
SAMPLE_KEYS = ("index", "source", "image", "p_id", "p_exp", "camera", "landmarks68", "visible68", "dense",
               "visible_dense", "triangle_ids")
#: Keys a shard may carry beyond :data:`SAMPLE_KEYS` (profiled photos: the yaw they were rotated by, degrees,
#: and whether the 68 landmarks are the photo's own hand annotation).
OPTIONAL_KEYS = ("rotation", "annotated")
#: What repairs a damaged dataset, for error messages.
REPAIR = "rerun the same 'dffkit synth' command: it verifies every shard and rewrites the damaged ones"


@dataclass(frozen=True)
class Sample:
    """One synthetic image and its ground truth (see the module docstring for shapes).

    Attributes:
        camera: the weak-perspective camera of the image.
        rotation_deg: yaw added to the source image's pose, degrees (profiled samples; NaN for renders).
        annotated: the 68 landmarks are the source photo's own annotation (an unrotated profiled photo).
    """

    index: int
    source: int
    image: np.ndarray
    p_id: np.ndarray
    p_exp: np.ndarray
    camera: Camera
    landmarks68: np.ndarray
    visible68: np.ndarray
    dense: np.ndarray
    visible_dense: np.ndarray
    triangle_ids: np.ndarray
    rotation_deg: float = float("nan")
    annotated: bool = False

    def vertices(self, model: FaceModel) -> np.ndarray:
        """(V, 3) the sample's shape S = S̄ + A_id p_id + A_exp p_exp, cm."""
        return model.shape(self.p_id, self.p_exp)

    def conventions(self, model: FaceModel, candidates: dict | None = None) -> dict[str, np.ndarray]:
        """The sample's 68 landmarks in both conventions: ``'3d'`` the model's landmark vertices projected,
        ``'2d'`` with a turned-away jawline on the silhouette (an annotated image's own hand annotation).

        Example:
            >>> from dffkit.examples import views
            >>> from dffkit.face.model import load_default_model
            >>> s = views()[0]
            >>> c = s.conventions(load_default_model())
            >>> bool(np.allclose(c["3d"], s.landmarks68, atol=1e-3)), c["2d"].shape
            (True, (68, 2))
        """
        from dffkit.face.camera import project
        from dffkit.face.landmarks import marched_landmarks

        shape = self.vertices(model)
        out = {"3d": project(shape[model.landmarks68], self.camera)}
        out["2d"] = np.asarray(self.landmarks68, np.float64) if self.annotated else \
            marched_landmarks(model, shape, self.camera, candidates)
        return out

    def vertices_image(self, model: FaceModel) -> np.ndarray:
        """(V, 3) the shape in the image frame (x, y pixels; z towards the viewer)."""
        return transform(self.vertices(model), self.camera)

    def barycentrics(self, model: FaceModel) -> np.ndarray:
        """(H, W, 3) float32 barycentric coordinates of each pixel in its triangle (0 on the background)."""
        from dffkit.face.render import barycentric_map

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

    @classmethod
    def from_arrays(cls, arrays: dict[str, Any]) -> Sample:
        """A sample from one row of shard arrays (the ``camera`` as a (6,) w vector)."""
        kw = {k: (np.asarray(arrays[k]).item() if np.ndim(arrays[k]) == 0 else arrays[k]) for k in SAMPLE_KEYS}
        kw["camera"] = Camera.from_vector(arrays["camera"])
        for k, field_name in zip(OPTIONAL_KEYS, ("rotation_deg", "annotated")):
            if k in arrays:
                kw[field_name] = np.asarray(arrays[k]).item()
        return cls(**kw)


def shard_name(k: int) -> str:
    """File name of shard k."""
    return f"shard-{k:05d}.npz"


def write_shard(path: Path, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Write samples (dicts keyed as :data:`SAMPLE_KEYS`, optionally :data:`OPTIONAL_KEYS`) as one shard, atomically.

    Returns:
        The shard's manifest fields: ``bytes`` and ``sha256``.
    """
    keys = [k for k in (*SAMPLE_KEYS, *OPTIONAL_KEYS) if k in rows[0]]
    data = npz_bytes({k: np.stack([np.asarray(r[k]) for r in rows]) for k in keys})
    atomic_write(path, data)
    return {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def shard_ok(path: Path, entry: dict[str, Any]) -> bool:
    """Whether a shard file matches its manifest entry: its size and checksum, or (for manifests that
    predate checksums) whether every array loads."""
    if not path.is_file():
        return False
    if "sha256" in entry:
        if path.stat().st_size != entry.get("bytes"):
            return False
        h = hashlib.sha256()
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
        return h.hexdigest() == entry["sha256"]
    try:
        with np.load(path, allow_pickle=False) as z:
            return all(z[k].size >= 0 for k in SAMPLE_KEYS)
    except Exception:  # noqa: BLE001 - any failure to read means the shard is damaged
        return False


def read_manifest(root: Path) -> dict[str, Any]:
    """The manifest of a dataset folder, checked for the fields readers and writers rely on.

    Raises:
        DffkitError: missing, corrupt, of another format version, or without a shard list.
    """
    mpath = Path(root) / "manifest.json"
    if not mpath.is_file():
        raise DffkitError(f"{root} has no manifest.json; is it a dataset written by 'dffkit synth'?")
    try:
        doc = json.loads(mpath.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise DffkitError(f"{mpath} is corrupt; delete the dataset folder and rerun 'dffkit synth'") from None
    if not isinstance(doc, dict):
        raise DffkitError(f"{mpath} is not a dataset manifest (a JSON object); delete it and rerun 'dffkit synth'")
    if doc.get("format_version") != FORMAT_VERSION:
        raise DffkitError(f"{root} uses dataset format {doc.get('format_version')}, this dffkit reads "
                          f"{FORMAT_VERSION}; regenerate it")
    shards = doc.get("shards")
    if not isinstance(shards, list) or not all(isinstance(s, dict) and "file" in s and "count" in s for s in shards):
        raise DffkitError(f"{mpath} has no valid shard list; delete it and rerun 'dffkit synth'")
    return doc


def write_manifest(root: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` atomically."""
    atomic_write(Path(root) / "manifest.json", (json.dumps(manifest, indent=1) + "\n").encode())


class SynthDataset:
    """Read a dataset written by ``dffkit synth`` (:func:`dffkit.data.generate.generate_dataset`).

    Indexable and iterable; ``dataset[i]`` is a :class:`Sample`. Shards are loaded on demand, the most
    recent ones kept in memory, so sequential reading is fast.

    Example:
        >>> ds = SynthDataset("data/synth")        # doctest: +SKIP
        >>> s = ds[0]; s.image.shape               # doctest: +SKIP
        (224, 224, 3)
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifest = read_manifest(self.root)
        shards = [s for s in self.manifest["shards"] if s.get("done")]
        self.entries = shards
        counts = np.array([s["count"] for s in shards], np.int64)
        self._starts = np.r_[0, np.cumsum(counts)]
        self.shard = lru_cache(maxsize=2)(self._read_shard)

    @property
    def config(self) -> dict:
        """The generation config recorded in the manifest."""
        return self.manifest["config"]

    @property
    def complete(self) -> bool:
        """True when every planned shard has been written."""
        return all(s.get("done") for s in self.manifest["shards"])

    @property
    def n_shards(self) -> int:
        """Shards written."""
        return len(self.entries)

    def __len__(self) -> int:
        return int(self._starts[-1])

    def _read_shard(self, k: int) -> dict[str, np.ndarray]:
        """The arrays of written shard k (see the module docstring).

        Raises:
            DffkitError: the shard is missing or damaged, naming it and the command that repairs it.
        """
        path = self.root / self.entries[k]["file"]
        try:
            with np.load(path, allow_pickle=False) as z:
                return {key: z[key] for key in (*SAMPLE_KEYS, *OPTIONAL_KEYS) if key in z.files or key in SAMPLE_KEYS}
        except Exception as exc:  # noqa: BLE001 - zipfile, zlib and numpy raise many types for a damaged file
            raise DffkitError(f"{path} is unreadable ({exc.__class__.__name__}); {REPAIR}") from None

    def __getitem__(self, i: int) -> Sample:
        if not -len(self) <= i < len(self):
            raise IndexError(f"sample {i} out of range for {len(self)} samples")
        i = int(i) % len(self)
        k = int(np.searchsorted(self._starts, i, side="right") - 1)
        shard = self.shard(k)
        j = i - int(self._starts[k])
        return Sample.from_arrays({key: v[j] for key, v in shard.items()})

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def verify(self) -> list[str]:
        """The files of written shards that fail their size and checksum (empty when all are sound)."""
        return [e["file"] for e in self.entries if not shard_ok(self.root / e["file"], e)]

    def sources(self) -> FittedSources:
        """The fitted source faces (:class:`dffkit.data.sources.FittedSources`)."""
        from dffkit.data.sources import FittedSources

        try:
            return FittedSources.load(self.root / "sources.npz")
        except DffkitError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise DffkitError(f"{self.root / 'sources.npz'} is unreadable ({exc.__class__.__name__}); "
                              f"{REPAIR}") from None
