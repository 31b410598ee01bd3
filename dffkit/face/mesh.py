"""Mesh geometry the renderer and its users share: area-weighted vertex normals and exact barycentric
coordinates of pixels in their triangles (weak perspective keeps image-plane barycentrics equal to 3D)."""

from __future__ import annotations

import numpy as np

__all__ = ["vertex_normals", "barycentric_map", "barycentric_coordinates"]


def vertex_normals(vertices: np.ndarray, triangles: np.ndarray) -> np.ndarray:
    """Area-weighted unit vertex normals.

    Args:
        vertices: (V, 3) points in a right-handed frame.
        triangles: (T, 3) vertex indices, counter-clockwise seen from outside.

    Returns:
        (V, 3) float32 unit normals (zero for unused vertices).
    """
    v = np.asarray(vertices, np.float64)
    t = np.asarray(triangles)
    fn = np.cross(v[t[:, 1]] - v[t[:, 0]], v[t[:, 2]] - v[t[:, 0]])
    n = np.zeros_like(v)
    for k in range(3):
        for c in range(3):
            n[:, c] += np.bincount(t[:, k], weights=fn[:, c], minlength=len(v))
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    return (n / np.where(norm > 0, norm, 1.0)).astype(np.float32)


def barycentric_map(vertices_image: np.ndarray, triangles: np.ndarray, triangle_ids: np.ndarray) -> np.ndarray:
    """Barycentric coordinates of each pixel centre in its triangle.

    Under a weak-perspective (orthographic) camera, image-plane barycentrics equal the 3D ones.

    Args:
        vertices_image: (V, ≥2) vertex image coordinates, pixels; pixel (i, j) is centred at (j, i).
        triangles: (T, 3) vertex indices.
        triangle_ids: (H, W) triangle index per pixel, −1 for none.

    Returns:
        (H, W, 3) float32 barycentrics, zeros where ``triangle_ids < 0``.
    """
    h, w = triangle_ids.shape
    out = np.zeros((h, w, 3), np.float32)
    rows, cols = np.nonzero(triangle_ids >= 0)
    if rows.size == 0:
        return out
    tri = np.asarray(triangles)[triangle_ids[rows, cols]]
    p = np.asarray(vertices_image, np.float64)[:, :2]
    q = np.stack([cols, rows], axis=1).astype(np.float64)
    out[rows, cols] = barycentric_coordinates(q, p[tri])
    return out


def barycentric_coordinates(points: np.ndarray, triangles_xy: np.ndarray) -> np.ndarray:
    """Barycentric coordinates of 2D points in 2D triangles (outside a triangle, some are negative).

    Args:
        points: (N, 2) points.
        triangles_xy: (N, 3, 2) the corners of each point's triangle.

    Returns:
        (N, 3) float64 coordinates, summing to 1.
    """
    a, b, c = triangles_xy[:, 0], triangles_xy[:, 1], triangles_xy[:, 2]
    v0, v1, v2 = b - a, c - a, np.asarray(points, np.float64) - a
    den = v0[:, 0] * v1[:, 1] - v1[:, 0] * v0[:, 1]
    den = np.where(np.abs(den) > 1e-12, den, 1e-12)
    l1 = (v2[:, 0] * v1[:, 1] - v1[:, 0] * v2[:, 1]) / den
    l2 = (v0[:, 0] * v2[:, 1] - v2[:, 0] * v0[:, 1]) / den
    return np.stack([1.0 - l1 - l2, l1, l2], axis=1)
