"""Per-vertex texture from a photo, with the unseen parts filled (paper Sec. III-A).

The fitted face is rendered in the photo's frame; each vertex that the z-buffer shows, and that faces
the camera (cos of the view angle above ``min_cos``), takes the photo's colour at its projection
(bilinear). Hidden vertices take the colour of their left-right mirror vertex when that one was
seen; what remains is filled smoothly: a harmonic interpolation over the mesh (the discrete Laplace
equation with the known colours as boundary values, solved with ``scipy.sparse``).
"""

from __future__ import annotations

import cv2
import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve
from scipy.spatial import cKDTree

from dffkit.face.camera import Camera, transform
from dffkit.face.model import FaceModel
from dffkit.face.render import Renderer, vertex_normals

__all__ = ["mirror_vertices", "vertex_graph", "sample_texture", "fill_texture"]


def mirror_vertices(model: FaceModel) -> np.ndarray:
    """Index of each vertex's left-right mirror: the vertex nearest (−x, y, z) in the mean shape. (V,) int64."""
    m = model.mean.astype(np.float64)
    _, idx = cKDTree(m).query(m * [-1.0, 1.0, 1.0])
    return idx.astype(np.int64)


def vertex_graph(model: FaceModel) -> sp.csr_matrix:
    """(V, V) symmetric 0/1 adjacency of the mesh's vertices (shared triangle edges)."""
    t = model.triangles.astype(np.int64)
    a = np.r_[t[:, 0], t[:, 1], t[:, 2]]
    b = np.r_[t[:, 1], t[:, 2], t[:, 0]]
    g = sp.coo_matrix((np.ones(2 * len(a)), (np.r_[a, b], np.r_[b, a])), shape=(model.n_vertices,) * 2).tocsr()
    g.data[:] = 1.0
    return g


def fill_texture(colors: np.ndarray, known: np.ndarray, graph: sp.csr_matrix, mirror: np.ndarray | None = None,
                 eps: float = 1e-4) -> np.ndarray:
    """Fill unknown vertex colours: mirror first, then harmonic interpolation over the mesh.

    Args:
        colors: (V, 3) float colours; only ``known`` rows are used.
        known: (V,) bool.
        graph: (V, V) vertex adjacency from :func:`vertex_graph`.
        mirror: (V,) mirror vertex of each vertex, or None to skip the symmetry step.
        eps: a weak pull towards the mean known colour, so that parts with no known vertex (the back of
            the eyeballs) get it instead of an undefined value.

    Returns:
        (V, 3) float colours, equal to ``colors`` on ``known``.
    """
    c = np.asarray(colors, np.float64).copy()
    k = np.asarray(known, bool).copy()
    if not k.any():
        return np.full_like(c, 128.0)
    if mirror is not None:
        take = ~k & k[mirror]
        c[take] = c[mirror[take]]
        k |= take
    u = np.nonzero(~k)[0]
    if u.size == 0:
        return c
    mean = c[k].mean(axis=0)
    deg = np.asarray(graph.sum(axis=1)).ravel()
    lap_uu = sp.diags(deg[u] + eps) - graph[u][:, u]
    rhs = graph[u][:, np.nonzero(k)[0]] @ c[k] + eps * mean
    c[u] = spsolve(lap_uu.tocsc(), rhs).reshape(len(u), 3)
    return c


def sample_texture(image: np.ndarray, model: FaceModel, shape: np.ndarray, camera: Camera, renderer: Renderer,
                   graph: sp.csr_matrix, mirror: np.ndarray, min_cos: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Per-vertex colours of a fitted face from its photo.

    Args:
        image: (H, W, 3) uint8 RGB photo.
        model: the face model.
        shape: (V, 3) the fitted shape.
        camera: the fitted camera (in the photo's pixel frame).
        renderer: a renderer (for the z-buffer visibility).
        graph, mirror: from :func:`vertex_graph` and :func:`mirror_vertices`.
        min_cos: a vertex is sampled only where its normal faces the camera at least this much.

    Returns:
        (colors, seen): (V, 3) uint8 filled colours and (V,) bool, the vertices sampled from the photo.
    """
    h, w = image.shape[:2]
    vis = renderer.render(shape, model.triangles, camera, size=(h, w)).vertex_visible
    vi = transform(shape, camera)
    normals = vertex_normals(shape @ camera.R.T, model.triangles)
    inside = (vi[:, 0] >= 0) & (vi[:, 0] <= w - 1) & (vi[:, 1] >= 0) & (vi[:, 1] <= h - 1)
    seen = vis & inside & (normals[:, 2] > min_cos)
    mx = vi[:, 0].astype(np.float32).reshape(1, -1)
    my = vi[:, 1].astype(np.float32).reshape(1, -1)
    sampled = cv2.remap(image, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[0].astype(np.float64)
    filled = fill_texture(sampled, seen, graph, mirror)
    return np.clip(np.rint(filled), 0, 255).astype(np.uint8), seen
