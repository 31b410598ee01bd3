"""Drawing helpers for figures: landmarks over images, image grids."""

from __future__ import annotations

import cv2
import numpy as np

__all__ = ["draw_landmarks", "image_grid", "VISIBLE_RGB", "HIDDEN_RGB"]

VISIBLE_RGB = (40, 220, 40)
HIDDEN_RGB = (230, 40, 40)


def draw_landmarks(image: np.ndarray, points: np.ndarray, visible: np.ndarray | None = None,
                   radius: int | None = None) -> np.ndarray:
    """Draw points on a copy of an image, green where visible and red where hidden.

    Args:
        image: (H, W, 3) uint8 RGB.
        points: (N, 2) image coordinates, pixels.
        visible: (N,) bool, or None for all visible.
        radius: dot radius in pixels; None scales with the image.

    Returns:
        (H, W, 3) uint8 RGB copy with the dots.
    """
    out = np.ascontiguousarray(image).copy()
    pts = np.asarray(points, np.float64)
    vis = np.ones(len(pts), bool) if visible is None else np.asarray(visible, bool)
    r = radius if radius is not None else max(1, min(out.shape[:2]) // 160)
    for (x, y), v in zip(pts, vis):
        if np.isfinite(x) and np.isfinite(y):
            cv2.circle(out, (int(round(x)), int(round(y))), r, VISIBLE_RGB if v else HIDDEN_RGB, -1, cv2.LINE_AA)
    return out


def image_grid(images: list[np.ndarray], cols: int, pad: int = 2, fill: int = 255) -> np.ndarray:
    """Tile equally sized (H, W, 3) uint8 images into rows of ``cols``, separated by ``pad`` pixels."""
    if not images:
        raise ValueError("image_grid needs at least one image")
    h, w = images[0].shape[:2]
    rows = -(-len(images) // cols)
    out = np.full((rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad, 3), fill, np.uint8)
    for k, im in enumerate(images):
        r, c = divmod(k, cols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = im
    return out
