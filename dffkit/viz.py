"""Drawing helpers for figures: landmarks over images, image grids."""

from __future__ import annotations

import cv2
import numpy as np

from dffkit.errors import DffkitError

__all__ = ["draw_landmarks", "draw_matches", "correspondence_colors", "image_grid", "render_face", "framed_view",
           "label_panel", "draw_pose_axes", "depth_image", "new_figure", "grid_figure", "VISIBLE_RGB",
           "HIDDEN_RGB", "TRUTH_RGB"]

VISIBLE_RGB = (40, 220, 40)
HIDDEN_RGB = (230, 40, 40)
TRUTH_RGB = (40, 120, 255)


def draw_landmarks(image: np.ndarray, points: np.ndarray, visible: np.ndarray | None = None,
                   radius: int | None = None, color: tuple[int, int, int] | None = None) -> np.ndarray:
    """Draw points on a copy of an image, green where visible and red where hidden (hidden ones first, so
    that a visible point is never covered by a hidden one).

    Args:
        image: (H, W, 3) uint8 RGB.
        points: (N, 2) image coordinates, pixels.
        visible: (N,) bool, or None for all visible.
        radius: dot radius in pixels; None scales with the image.
        color: one RGB colour for every point (e.g. :data:`TRUTH_RGB` for ground truth) instead of the
            visibility colours.

    Returns:
        (H, W, 3) uint8 RGB copy with the dots.
    """
    out = np.ascontiguousarray(image).copy()
    pts = np.asarray(points, np.float64)
    vis = np.ones(len(pts), bool) if visible is None else np.asarray(visible, bool)
    r = radius if radius is not None else max(1, min(out.shape[:2]) // 160)
    for k in np.r_[np.nonzero(~vis)[0], np.nonzero(vis)[0]]:
        x, y = pts[k]
        if np.isfinite(x) and np.isfinite(y):
            c = color if color is not None else (VISIBLE_RGB if vis[k] else HIDDEN_RGB)
            cv2.circle(out, (int(round(x)), int(round(y))), r, c, -1, cv2.LINE_AA)
    return out


def draw_matches(image_a: np.ndarray, image_b: np.ndarray, source: np.ndarray, target: np.ndarray,
                 correct: np.ndarray | None = None, height: int = 224, max_lines: int = 200,
                 seed: int = 0) -> np.ndarray:
    """Two images side by side (scaled to ``height``) with a line per match.

    Args:
        image_a, image_b: (H, W, 3) uint8 RGB.
        source, target: (N, 2) matched points in A and B, pixels.
        correct: (N,) bool to colour lines green (True) or red (False); None draws them in colours by index.
        max_lines: draw at most this many matches (a seeded random subset).

    Returns:
        (height, W', 3) uint8 RGB.
    """
    ka, kb = height / image_a.shape[0], height / image_b.shape[0]
    a = cv2.resize(np.ascontiguousarray(image_a), (max(1, round(image_a.shape[1] * ka)), height))
    b = cv2.resize(np.ascontiguousarray(image_b), (max(1, round(image_b.shape[1] * kb)), height))
    out = np.concatenate([a, b], axis=1)
    src, dst = np.asarray(source, np.float64) * ka, np.asarray(target, np.float64) * kb + [a.shape[1], 0]
    keep = np.arange(len(src))
    if len(keep) > max_lines:
        keep = np.sort(np.random.default_rng(seed).choice(len(src), max_lines, replace=False))
    colors = patch_colors(max(len(src), 1), seed=seed)
    for k in keep:
        if correct is None:
            c = tuple(int(v) for v in colors[k])
        else:
            c = VISIBLE_RGB if correct[k] else HIDDEN_RGB
        p, q = (int(round(v)) for v in src[k]), (int(round(v)) for v in dst[k])
        cv2.line(out, tuple(p), tuple(q), c, 1, cv2.LINE_AA)
    return out


def correspondence_colors(mask_a: np.ndarray, shape_b: tuple[int, int], source: np.ndarray, target: np.ndarray,
                          valid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Colour-code a dense correspondence (paper Fig. 9): each source face pixel gets a colour from its
    position; each target pixel matched from it gets the same colour, unmatched pixels stay black.

    Args:
        mask_a: (H, W) bool source face region (coloured by position).
        shape_b: (H', W') of the target image.
        source, target: (N, 2) matched points, pixels; valid: (N,) bool.

    Returns:
        (source colours (H, W, 3), target colours (H', W', 3)), uint8 RGB.
    """
    h, w = mask_a.shape
    rows, cols = np.nonzero(mask_a)
    y0, y1, x0, x1 = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
    yy, xx = np.mgrid[0:h, 0:w]
    u = np.clip((xx - x0) / max(x1 - x0, 1), 0, 1)
    v = np.clip((yy - y0) / max(y1 - y0, 1), 0, 1)
    palette = (np.stack([u, v, 1 - 0.5 * (u + v)], -1) * 255).astype(np.uint8)
    src_img = np.where(mask_a[..., None], palette, 0).astype(np.uint8)
    dst_img = np.zeros((*shape_b, 3), np.uint8)
    s = np.rint(np.asarray(source)[valid]).astype(int)
    t = np.rint(np.asarray(target)[valid]).astype(int)
    ok = (t[:, 0] >= 0) & (t[:, 0] < shape_b[1]) & (t[:, 1] >= 0) & (t[:, 1] < shape_b[0])
    dst_img[t[ok, 1], t[ok, 0]] = palette[s[ok, 1], s[ok, 0]]
    return src_img, dst_img


def image_grid(images: list[np.ndarray], cols: int, pad: int = 2, fill: int = 255) -> np.ndarray:
    """Tile equally sized (H, W, 3) uint8 images into rows of ``cols``, separated by ``pad`` pixels."""
    if not images:
        raise DffkitError("image_grid needs at least one image")
    h, w = images[0].shape[:2]
    rows = -(-len(images) // cols)
    out = np.full((rows * h + (rows - 1) * pad, cols * w + (cols - 1) * pad, 3), fill, np.uint8)
    for k, im in enumerate(images):
        r, c = divmod(k, cols)
        out[r * (h + pad): r * (h + pad) + h, c * (w + pad): c * (w + pad) + w] = im
    return out


def framed_view(renderer, model, size: int | tuple[int, int] = 224, p_id: np.ndarray | None = None,
                p_exp: np.ndarray | None = None, pitch: float = 0.0, yaw: float = 0.0, roll: float = 0.0,
                fill: float = 0.75, colors: np.ndarray | None = None, part: str = "face"):
    """Render a model face framed in the image, and return what is needed to draw on it.

    Args:
        renderer: a :class:`dffkit.face.render.Renderer`.
        model: a :class:`dffkit.face.model.FaceModel`.
        size: image size, int or (H, W), pixels.
        p_id, p_exp: model parameters; None for zeros.
        pitch, yaw, roll: radians.
        fill: share of the image the ``part`` spans.
        colors: (V, 3) per-vertex colours (e.g. a texture from :mod:`dffkit.face.texture`); None for skin.
        part: the model part framed.

    Returns:
        (the :class:`dffkit.face.render.Rendering`, its :class:`dffkit.face.camera.Camera`, the (V, 3) shape):
        points drawn over the image must be projected with this camera.
    """
    from dffkit.face.camera import frame_camera

    shape = model.shape(p_id, p_exp)
    region = model.region(part)
    cam = frame_camera(shape[region], size, pitch=pitch, yaw=yaw, roll=roll, fill=fill)
    return renderer.render(shape, model.triangles, cam, size=size, colors=colors), cam, shape


def render_face(renderer, model, size: int | tuple[int, int] = 224, p_id: np.ndarray | None = None,
                p_exp: np.ndarray | None = None, pitch: float = 0.0, yaw: float = 0.0, roll: float = 0.0,
                landmarks: bool = False, fill: float = 0.75, colors: np.ndarray | None = None) -> np.ndarray:
    """Render a model face framed in the image (:func:`framed_view`), optionally with its 68 landmarks by
    visibility. Returns (H, W, 3) uint8 RGB."""
    from dffkit.face.camera import project

    out, cam, shape = framed_view(renderer, model, size, p_id, p_exp, pitch, yaw, roll, fill, colors)
    if not landmarks:
        return out.image
    return draw_landmarks(out.image, project(shape[model.landmarks68], cam), out.vertex_visible[model.landmarks68])


def label_panel(image: np.ndarray, text: str, scale: float | None = None) -> np.ndarray:
    """A copy of an image with a short label in its top-left corner (white on a dark band)."""
    out = np.ascontiguousarray(image).copy()
    s = scale if scale is not None else max(0.35, out.shape[0] / 500)
    (w, h), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, s, 1)
    cv2.rectangle(out, (0, 0), (w + 6, h + base + 6), (20, 20, 20), -1)
    cv2.putText(out, text, (3, h + 3), cv2.FONT_HERSHEY_SIMPLEX, s, (255, 255, 255), 1, cv2.LINE_AA)
    return out


def patch_colors(n: int, seed: int = 0) -> np.ndarray:
    """(n, 3) uint8 random, well-saturated RGB colours, one per patch (for segmentation figures)."""
    rng = np.random.default_rng(seed)
    hsv = np.stack([rng.integers(0, 180, n), rng.integers(120, 256, n), rng.integers(150, 256, n)], 1)
    return cv2.cvtColor(hsv.astype(np.uint8)[None], cv2.COLOR_HSV2RGB)[0]


def label_image(labels: np.ndarray, colors: np.ndarray, background: np.ndarray | None = None,
                alpha: float = 1.0) -> np.ndarray:
    """Colour a (H, W) patch-label map (−1 = none) with (n, 3) uint8 colours, over an optional image."""
    out = np.zeros(labels.shape + (3,), np.uint8) if background is None else background.copy()
    m = labels >= 0
    out[m] = (alpha * colors[labels[m]] + (1 - alpha) * out[m]).astype(np.uint8)
    return out


def descriptor_rgb(maps: list[np.ndarray]) -> list[np.ndarray]:
    """Map descriptor maps to RGB with one PCA projection shared by all of them.

    Args:
        maps: (H, W, D) descriptor maps; all-zero descriptors (no face) stay black.

    Returns:
        (H, W, 3) uint8 images: the first three principal components, scaled to [0, 255] together.
    """
    stack = np.concatenate([m.reshape(-1, m.shape[-1]) for m in maps])
    valid = np.linalg.norm(stack, axis=1) > 1e-6
    x = stack[valid] - stack[valid].mean(0)
    _, _, vt = np.linalg.svd(x[:: max(1, len(x) // 20000)], full_matrices=False)
    proj = (stack - stack[valid].mean(0)) @ vt[:3].T
    lo, hi = np.percentile(proj[valid], 1, axis=0), np.percentile(proj[valid], 99, axis=0)
    rgb = np.clip((proj - lo) / np.maximum(hi - lo, 1e-9), 0, 1) * 255
    rgb[~valid] = 0
    out, start = [], 0
    for m in maps:
        n = m.shape[0] * m.shape[1]
        out.append(rgb[start:start + n].reshape(m.shape[0], m.shape[1], 3).astype(np.uint8))
        start += n
    return out


def draw_pose_axes(image: np.ndarray, camera, origin: np.ndarray, length: float = 8.0) -> np.ndarray:
    """Draw a head's axes on a copy of the image: x (the subject's left) red, y (up) green, z (forward) blue.

    Args:
        image: (H, W, 3) uint8 RGB.
        camera: the face's :class:`dffkit.face.camera.Camera`.
        origin: (3,) model point the axes start from (e.g. the nose tip), cm.
        length: axis length, cm.

    Returns:
        (H, W, 3) uint8 RGB copy.
    """
    from dffkit.face.camera import project

    out = np.ascontiguousarray(image).copy()
    o = np.asarray(origin, np.float64)
    ends = project(np.stack([o, o + [length, 0, 0], o + [0, length, 0], o + [0, 0, length]]), camera)
    width = max(2, min(out.shape[:2]) // 150)
    for k, color in ((3, (40, 80, 255)), (2, (40, 220, 40)), (1, (230, 40, 40))):
        cv2.arrowedLine(out, tuple(int(round(v)) for v in ends[0]), tuple(int(round(v)) for v in ends[k]), color, width,
                        cv2.LINE_AA, tipLength=0.15)
    return out


def depth_image(depth: np.ndarray) -> np.ndarray:
    """An (H, W) depth map (NaN off the face) as a grey (H, W, 3) uint8 image: nearer is brighter, black off the face."""
    d = np.asarray(depth, np.float64)
    m = np.isfinite(d)
    out = np.zeros(d.shape, np.uint8)
    if m.any():
        lo, hi = d[m].min(), d[m].max()
        out[m] = (40 + 215 * (d[m] - lo) / max(hi - lo, 1e-9)).astype(np.uint8)
    return np.repeat(out[..., None], 3, axis=2)


def new_figure(width: float, height: float, ncols: int = 1, nrows: int = 1):
    """A matplotlib figure of ``width`` × ``height`` inches with a grid of axes, outside pyplot (a notebook
    shows it once, as the value of its cell).

    Returns:
        (figure, axes): one Axes, or an array of them for a grid.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols)
    return fig, axes


def grid_figure(images: list[np.ndarray], cols: int, width: float = 14.0, title: str | None = None,
                titles: list[str] | None = None):
    """The images tiled in rows of ``cols`` as one figure ``width`` inches wide (axes off), with an optional
    title over it or one title per image.

    Example:
        >>> fig = grid_figure([np.zeros((8, 8, 3), np.uint8)] * 3, cols=3, width=6)
        >>> [round(float(v), 2) for v in fig.get_size_inches()]
        [6.0, 2.0]
    """
    if not images:
        raise DffkitError("grid_figure needs at least one image")
    rows = -(-len(images) // cols)
    h, w = images[0].shape[:2]
    if titles is None:
        fig, ax = new_figure(width, width * rows * h / (cols * w) + (0.3 if title else 0.0))
        ax.imshow(image_grid(images, cols=cols))
        ax.axis("off")
        if title:
            ax.set_title(title)
        return fig
    fig, axes = new_figure(width, width * rows * h / (cols * w) + 0.3 * rows, ncols=cols, nrows=rows)
    for k, ax in enumerate(np.atleast_1d(axes).ravel()):
        ax.axis("off")
        if k < len(images):
            ax.imshow(images[k])
            ax.set_title(titles[k], fontsize=9)
    return fig
