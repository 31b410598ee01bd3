"""Random uniform segmentations of the face surface and per-pixel patch labels (paper Sec. III-B).

Each segmentation is a centroidal Voronoi tessellation (CVT) of the mean face surface, computed by
Lloyd's algorithm on the triangles of the face region, from random generators:

1. draw ``n_patches`` distinct generator triangles with probability proportional to their area
   (uniform on the surface);
2. assign every triangle to its nearest generator by geodesic distance, approximated by a
   multi-source Dijkstra on the face-adjacency graph whose edges join triangles that share an edge,
   weighted by the distance between their centroids (``scipy.sparse.csgraph.dijkstra``);
3. move each generator to its region's area-weighted centroid, kept on the surface by linking it
   to the region's triangles nearest to it (a generator is a point, not a triangle, so it can move
   by less than a triangle);
4. repeat until no triangle changes patch and no generator moves, or ``max_iter``.

Graph Voronoi regions are connected: every triangle on the shortest path from a triangle to its
generator has that generator as its nearest too. The rare fragment left by an exact tie is given to
a neighbouring patch.

Uniformity is limited by the mesh: the ICT face region has 13,120 triangles, about 26 per patch at
500 patches, whose areas span more than three orders of magnitude, so patch areas cannot be equal to
better than a few triangles. The area coefficient of variation falls as patches grow (the book
reports it). A patch is a union of mesh
triangles; since every face shares one topology, a segmentation of the mean face labels every
identity and expression. A rendering's triangle-id map then gives each pixel its patch.

Results are cached in ``$DFFKIT_CACHE`` (default ``~/.cache/dffkit``) under a key of the model's
topology, the parameters and :data:`ALGORITHM_VERSION`, so a change of any of them rebuilds the set.
"""

from __future__ import annotations

import hashlib
import tempfile
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components, dijkstra
from tqdm import tqdm

from dffkit.atomic import atomic_write, npz_bytes
from dffkit.cache import cache_dir
from dffkit.errors import DffkitError
from dffkit.face.model import FaceModel

__all__ = ["Segmentations", "segmentation_stats", "triangle_areas", "cvt_segmentation", "build_segmentations", "load_segmentations", "pixel_labels",
           "face_region_triangles", "triangle_adjacency", "patch_areas", "ALGORITHM_VERSION"]

#: Bump when the algorithm changes, so cached sets are rebuilt.
ALGORITHM_VERSION = 1


@dataclass(frozen=True, eq=False)
class Segmentations:
    """A set of surface segmentations of one mesh topology.

    Attributes:
        labels: (S, T) int16 patch index of every mesh triangle in each segmentation, −1 outside the
            face region.
        n_patches: patches per segmentation.
        seed: the seed the set was drawn with.
        iterations: (S,) Lloyd iterations each segmentation took.
    """

    labels: np.ndarray
    n_patches: int
    seed: int
    iterations: np.ndarray

    @property
    def n_segmentations(self) -> int:
        return self.labels.shape[0]

    def __post_init__(self) -> None:
        self.labels.setflags(write=False)


def face_region_triangles(model: FaceModel) -> np.ndarray:
    """Indices of the triangles whose three vertices lie in the model's face region (:meth:`FaceModel.region`:
    the ICT "narrow face area", forehead to chin up to the ears, as BFM's face). Returns (F,) int64."""
    inside = np.zeros(model.n_vertices, bool)
    inside[model.region()] = True
    return np.nonzero(inside[model.triangles].all(axis=1))[0]


def triangle_adjacency(vertices: np.ndarray, triangles: np.ndarray) -> sp.csr_matrix:
    """Face-adjacency graph: triangles sharing an edge, weighted by the distance of their centroids.

    Args:
        vertices: (V, 3) points.
        triangles: (F, 3) vertex indices.

    Returns:
        (F, F) symmetric CSR matrix of edge lengths (same units as ``vertices``).
    """
    t = np.asarray(triangles, np.int64)
    edges = np.sort(np.concatenate([t[:, [0, 1]], t[:, [1, 2]], t[:, [2, 0]]]), axis=1)
    owner = np.tile(np.arange(len(t)), 3)
    key = edges[:, 0] * (int(t.max()) + 1) + edges[:, 1]
    order = np.argsort(key, kind="stable")
    ks = key[order]
    same = ks[1:] == ks[:-1]
    a, b = owner[order][:-1][same], owner[order][1:][same]
    c = np.asarray(vertices, np.float64)[t].mean(axis=1)
    w = np.linalg.norm(c[a] - c[b], axis=1) + 1e-12
    g = sp.coo_matrix((np.r_[w, w], (np.r_[a, b], np.r_[b, a])), shape=(len(t), len(t)))
    return g.tocsr()


def triangle_areas(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area of each triangle. vertices: (V, 3); triangles: (F, 3). Returns (F,) float64, units².

    Example:
        >>> triangle_areas(np.array([[0, 0, 0], [2, 0, 0], [0, 3, 0]]), np.array([[0, 1, 2]])).tolist()
        [3.0]
    """
    v = np.asarray(vertices, np.float64)[np.asarray(triangles)]
    return 0.5 * np.linalg.norm(np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0]), axis=1)


def _face_surface(model: FaceModel) -> tuple[np.ndarray, np.ndarray, np.ndarray, sp.csr_matrix]:
    """The face region of the mean shape: triangle indices, centroids, areas and adjacency graph."""
    region = face_region_triangles(model)
    v = model.mean.astype(np.float64)
    t = model.triangles[region]
    return region, v[t].mean(axis=1), triangle_areas(v, t), triangle_adjacency(v, t)


def patch_areas(labels: np.ndarray, areas: np.ndarray, n_patches: int) -> np.ndarray:
    """Total area of each patch. labels: (F,) patch per triangle (−1 ignored); areas: (F,). Returns (n_patches,)."""
    ok = labels >= 0
    return np.bincount(labels[ok], weights=areas[ok], minlength=n_patches)


def cvt_segmentation(centroids: np.ndarray, areas: np.ndarray, graph: sp.csr_matrix, n_patches: int,
                     rng: np.random.Generator, max_iter: int = 60, n_links: int = 6) -> tuple[np.ndarray, int]:
    """One CVT segmentation of a triangulated surface by Lloyd's algorithm with geodesic assignment.

    Generators are points, not triangles: each is a virtual graph node linked to the ``n_links``
    triangles of its region nearest to it (by their Euclidean distance to it), so that a generator can
    move by less than a triangle. A multi-source Dijkstra from the generators assigns the triangles.

    Args:
        centroids: (F, 3) triangle centroids.
        areas: (F,) triangle areas.
        graph: (F, F) face-adjacency graph from :func:`triangle_adjacency` (connected).
        n_patches: number of patches, 1 <= n_patches <= F.
        rng: random generator for the initial generators.
        max_iter: Lloyd iterations at most.
        n_links: triangles each generator links to.

    Returns:
        (labels, iterations): (F,) int64 patch of each triangle in [0, n_patches), every patch non-empty
        and connected, and the number of Lloyd iterations done.
    """
    f = len(centroids)
    if not 1 <= n_patches <= f:
        raise DffkitError(f"n_patches must be in [1, {f}] for this surface, got {n_patches}")
    seeds = rng.choice(f, size=n_patches, replace=False, p=areas / areas.sum())
    points = centroids[seeds]
    rows, cols, dist = np.arange(n_patches), seeds, np.zeros(n_patches)
    g = graph.tocoo()
    tol = 1e-3 * float(np.median(g.data))
    labels = np.zeros(f, np.int64)
    it = 0
    for it in range(1, max_iter + 1):
        w = dist + 1e-12
        aug = sp.coo_matrix((np.r_[g.data, w, w], (np.r_[g.row, f + rows, cols], np.r_[g.col, cols, f + rows])),
                            shape=(f + n_patches, f + n_patches)).tocsr()
        _, _, sources = dijkstra(aug, directed=False, indices=f + np.arange(n_patches), min_only=True,
                                 return_predecessors=True)
        new_labels = sources[:f] - f
        mass = np.bincount(new_labels, weights=areas, minlength=n_patches)
        new_points = np.stack([np.bincount(new_labels, weights=areas * centroids[:, k], minlength=n_patches)
                               for k in range(3)], axis=1) / mass[:, None]
        converged = np.array_equal(new_labels, labels) and np.abs(new_points - points).max() < tol
        labels, points = new_labels, new_points
        if converged:
            break
        # Link each generator (the region's centroid) to its region's triangles nearest to it.
        d = np.linalg.norm(centroids - points[labels], axis=1)
        order = np.lexsort((d, labels))
        first_of = np.searchsorted(labels[order], np.arange(n_patches))
        rank = np.arange(f) - first_of[labels[order]]
        chosen = order[rank < n_links]
        rows, cols, dist = labels[chosen], chosen, d[chosen]
    return _merge_fragments(labels, graph), it


def _merge_fragments(labels: np.ndarray, graph: sp.csr_matrix) -> np.ndarray:
    """Give any disconnected fragment of a patch (possible only on exact distance ties) to a neighbour."""
    labels = labels.copy()
    coo = graph.tocoo()
    for _ in range(10):
        same = labels[coo.row] == labels[coo.col]
        sub = sp.coo_matrix((np.ones(same.sum()), (coo.row[same], coo.col[same])), shape=graph.shape)
        n, comp = connected_components(sub, directed=False)
        if n == labels.max() + 1:
            return labels
        size = np.bincount(comp)
        # the largest component of each patch keeps the label
        keep = np.zeros(n, bool)
        best: dict[int, int] = {}
        for c in np.argsort(-size):
            lab = labels[np.argmax(comp == c)]
            if lab not in best:
                best[lab] = c
                keep[c] = True
        stray = ~keep[comp]
        for i in np.nonzero(stray)[0]:
            nbrs = graph.indices[graph.indptr[i]:graph.indptr[i + 1]]
            other = nbrs[labels[nbrs] != labels[i]]
            if other.size:
                labels[i] = labels[other[0]]
    return labels


def _cache_key(model: FaceModel, region: np.ndarray, n_segmentations: int, n_patches: int, seed: int,
               max_iter: int) -> str:
    h = hashlib.sha1()
    for arr in (model.triangles, region, np.round(model.mean, 4)):
        h.update(np.ascontiguousarray(arr).tobytes())
    h.update(f"{n_segmentations}-{n_patches}-{seed}-{max_iter}-v{ALGORITHM_VERSION}".encode())
    return h.hexdigest()[:16]


def build_segmentations(model: FaceModel, n_segmentations: int = 100, n_patches: int = 500, seed: int = 0,
                        max_iter: int = 60, progress: bool = True) -> Segmentations:
    """Compute ``n_segmentations`` random CVT segmentations of the mean face (no cache).

    Segmentation k draws its generators from ``numpy.random.default_rng([seed, k])``, so each one is
    deterministic on its own and a larger set extends a smaller one.
    """
    if n_segmentations < 1:
        raise DffkitError(f"n_segmentations must be >= 1, got {n_segmentations}")
    region, centroids, areas, graph = _face_surface(model)
    if connected_components(graph, directed=False)[0] != 1:
        raise DffkitError("the face region of this model is not one connected surface; choose another region")
    labels = np.full((n_segmentations, model.n_triangles), -1, np.int16)
    iters = np.zeros(n_segmentations, np.int32)
    for k in tqdm(range(n_segmentations), desc="CVT segmentations", disable=not progress):
        lab, iters[k] = cvt_segmentation(centroids, areas, graph, n_patches, np.random.default_rng([seed, k]),
                                         max_iter=max_iter)
        labels[k, region] = lab
    return Segmentations(labels=labels, n_patches=n_patches, seed=seed, iterations=iters)


def load_segmentations(model: FaceModel, n_segmentations: int = 100, n_patches: int = 500, seed: int = 0,
                       max_iter: int = 60, cache: bool = True, progress: bool = True) -> Segmentations:
    """The segmentation set for ``model``, from the cache when it is there, else built and cached.

    The cache file's name holds a hash of the topology, the parameters and the algorithm version; a
    file that fails to load is rebuilt.
    """
    region = face_region_triangles(model)
    path = cache_dir() / f"segmentations-{_cache_key(model, region, n_segmentations, n_patches, seed, max_iter)}.npz"
    if cache and path.is_file():
        try:
            with np.load(path, allow_pickle=False) as z:
                version = z["version"]
                if (version.size == 1 and int(version.reshape(())) == ALGORITHM_VERSION
                        and z["labels"].shape == (n_segmentations, model.n_triangles)):
                    return Segmentations(labels=z["labels"], n_patches=n_patches, seed=seed,
                                         iterations=z["iterations"])
        except (OSError, ValueError, KeyError):
            pass  # unreadable or stale: rebuild below
    if cache:  # before the minutes of work, not after them
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            probe = tempfile.TemporaryFile(dir=path.parent)
            probe.close()
        except OSError as exc:
            raise DffkitError(f"the segmentation cache {path.parent} is not writable ({exc.strerror}); set "
                              "DFFKIT_CACHE to a writable folder") from None
    segs = build_segmentations(model, n_segmentations, n_patches, seed, max_iter, progress)
    if cache:
        atomic_write(path, npz_bytes({"labels": segs.labels, "iterations": segs.iterations,
                                      "version": np.array(ALGORITHM_VERSION)}))
    return segs


def pixel_labels(segmentations: Segmentations | np.ndarray, triangle_ids: np.ndarray) -> np.ndarray:
    """Patch index of every pixel in every segmentation, from a rendering's triangle-id map.

    Args:
        segmentations: a :class:`Segmentations` or its (S, T) ``labels``.
        triangle_ids: (H, W) or (N, H, W) triangle index per pixel, −1 on the background.

    Returns:
        (S, H, W) or (N, S, H, W) int16 patch index, −1 on background and non-face pixels.
    """
    table = segmentations.labels if isinstance(segmentations, Segmentations) else np.asarray(segmentations)
    ids = np.asarray(triangle_ids)
    if ids.size and ids.max() >= table.shape[1]:
        raise DffkitError(f"triangle id {int(ids.max())} exceeds the segmentation's {table.shape[1]} triangles; "
                          "the rendering and the segmentations come from different meshes")
    # a column of -1 at the end: id -1 indexes it
    ext = np.concatenate([table, np.full((table.shape[0], 1), -1, table.dtype)], axis=1)
    out = ext[:, ids]  # (S, ...) gathered in one pass
    return np.moveaxis(out, 0, -3) if ids.ndim == 3 else out


def segmentation_stats(model: FaceModel, segmentations: Segmentations) -> dict[str, np.ndarray]:
    """Uniformity of each segmentation: patch count, area CV, min and max area over the mean, connectivity.

    Returns:
        A dict of (S,) arrays: ``n_patches`` (non-empty patches), ``area_cv`` (std / mean of the patch
        areas), ``min_over_mean``, ``max_over_mean``, ``connected`` (every patch one component); and
        ``relative_areas`` (S, n_patches), each patch's area over the mean patch area.
    """
    region, _, areas, graph = _face_surface(model)
    graph = graph.tocoo()
    keys = ("n_patches", "area_cv", "min_over_mean", "max_over_mean", "connected", "relative_areas")
    out: dict[str, list] = {k: [] for k in keys}
    for lab in segmentations.labels[:, region].astype(np.int64):
        a = patch_areas(lab, areas, segmentations.n_patches)
        out["relative_areas"].append(a / a.mean())
        same = lab[graph.row] == lab[graph.col]
        sub = sp.coo_matrix((np.ones(same.sum()), (graph.row[same], graph.col[same])), shape=graph.shape)
        out["n_patches"].append(int((a > 0).sum()))
        out["area_cv"].append(a.std() / a.mean())
        out["min_over_mean"].append(a.min() / a.mean())
        out["max_over_mean"].append(a.max() / a.mean())
        out["connected"].append(connected_components(sub, directed=False)[0] == int((a > 0).sum()))
    return {k: np.asarray(v) for k, v in out.items()}
