"""Image reading and writing with one-line errors: every image enters dffkit as RGB uint8 (H, W, 3).

Arrays are converted by :func:`to_rgb_uint8`: grey, RGB and RGBA; uint8 and uint16; float images by
their range (values in [0, 1] are scaled by 255, values in [0, 255] with a maximum above 1 are taken as
8-bit levels, anything outside [0, 255] is refused, never clipped). A path given where an image is
expected is read with :func:`read_image`.

Decoding keeps the C libraries' own messages (libpng, libjpeg) off the terminal and turns the ones that
mean a damaged file into a one-line error: a truncated JPEG that still ends in an end marker decodes to
grey rows, and is refused rather than reported as "no face found".
"""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from dffkit.atomic import atomic_write
from dffkit.errors import DffkitError
from dffkit.stdio import captured_stderr

__all__ = ["read_image", "write_image", "to_rgb_uint8", "upright", "exif_orientation", "IMAGE_SUFFIXES"]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".ppm", ".pgm", ".tif", ".tiff", ".webp")
MIN_SIDE = 16
MAX_PIXELS = 100_000_000


def to_rgb_uint8(image: np.ndarray | str | os.PathLike, name: str = "image") -> np.ndarray:
    """Convert a grayscale, RGB or RGBA array of uint8, uint16 or float to RGB uint8 (a path is read).

    Float images: values in [0, 1] are scaled by 255; values in [0, 255] with a maximum above 1 are taken
    as 8-bit levels; values outside [0, 255] are refused.

    Args:
        image: (H, W), (H, W, 1), (H, W, 3) or (H, W, 4) array, RGBA composited on black; or an image path.
        name: what to call the image in an error message.

    Returns:
        (H, W, 3) uint8 RGB.

    Example:
        >>> to_rgb_uint8(np.full((20, 20), 0.5)).max(), to_rgb_uint8(np.full((20, 20, 3), 200.0)).max()
        (np.uint8(128), np.uint8(200))
    """
    if isinstance(image, (str, os.PathLike)):
        return read_image(image)
    a = np.asarray(image)
    if a.dtype.kind in "USO":
        raise DffkitError(f"{name} must be an image array (H, W, 3) or a path, got an array of {a.dtype}")
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[..., 0]
    if a.ndim == 2:
        a = np.repeat(a[..., None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4):
        raise DffkitError(f"{name} must be (H, W), (H, W, 3) or (H, W, 4), got shape {a.shape}")
    if a.dtype == np.uint16:
        a = (a.astype(np.float32) / 257.0 + 0.5).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise DffkitError(f"{name} contains NaN or infinite values")
        lo, hi = float(a.min()), float(a.max())
        if lo < 0.0 or hi > 255.0:
            raise DffkitError(f"{name} is a float image with values in [{lo:g}, {hi:g}]; pass values in [0, 1] or "
                              "[0, 255]")
        a = (a * (255.0 if hi <= 1.0 else 1.0) + 0.5).astype(np.uint8)
    elif a.dtype != np.uint8:
        raise DffkitError(f"{name} has dtype {a.dtype}; pass uint8, uint16 or float in [0, 1] or [0, 255]")
    if a.shape[2] == 4:
        alpha = a[..., 3:4].astype(np.float32) / 255.0
        a = (a[..., :3].astype(np.float32) * alpha + 0.5).astype(np.uint8)
    if min(a.shape[:2]) < MIN_SIDE:
        raise DffkitError(f"{name} is {a.shape[1]}x{a.shape[0]} pixels; faces need at least {MIN_SIDE} px a side")
    return np.ascontiguousarray(a)


def read_image(path: str | Path) -> np.ndarray:
    """Read an image file as RGB uint8 (H, W, 3), whatever its channels and bit depth, upright: turned as its
    EXIF orientation says (:func:`upright`), as photo viewers show it.

    Raises:
        DffkitError: a missing, empty, unreadable, truncated, tiny or huge file, with the fix.
    """
    p = Path(path)
    if not p.exists():
        raise DffkitError(f"{p}: no such file; check the path")
    if p.is_dir():
        raise DffkitError(f"{p} is a folder, not an image file")
    if p.stat().st_size == 0:
        raise DffkitError(f"{p} is empty (0 bytes); pass a PNG or JPEG image")
    data = np.fromfile(str(p), np.uint8)
    if data.size >= 2 and data[0] == 0xFF and data[1] == 0xD8 and not _jpeg_complete(data):
        raise DffkitError(f"{p} is a truncated JPEG (no end-of-image marker); re-export or re-download it")
    img, messages = _decode(data)
    damaged = next((m for m in messages if any(w in m.lower() for w in _DAMAGE_WORDS)), None)
    if damaged is not None:
        raise DffkitError(f"{p} is truncated or corrupt (the decoder says: {damaged.strip()}); re-export or "
                          "re-download it")
    if img is None:
        raise DffkitError(f"{p} is not a readable image; pass a PNG, JPEG, BMP, PPM, TIFF or WebP file")
    if img.shape[0] * img.shape[1] > MAX_PIXELS:
        raise DffkitError(f"{p} has {img.shape[1]}x{img.shape[0]} pixels, over {MAX_PIXELS:,}; downscale it first")
    img = upright(img, exif_orientation(p))
    if img.ndim == 3 and img.shape[2] in (3, 4):
        if img.dtype in (np.uint8, np.uint16, np.float32):  # cvtColor: a twentieth of a strided numpy copy's time
            img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB if img.shape[2] == 3 else cv2.COLOR_BGRA2RGBA)
        else:
            img = img[..., [2, 1, 0, 3][: img.shape[2]]]
    return to_rgb_uint8(img, name=str(p))


def exif_orientation(path: str | Path) -> int:
    """The EXIF orientation tag (1-8) of an image file, read by Pillow from its header; 1 (as stored) when
    it has none or it cannot be read. A phone stores a portrait photo's pixels sideways with tag 6 or 8."""
    import warnings

    from PIL import Image

    try:
        with warnings.catch_warnings(), Image.open(path) as im:
            warnings.simplefilter("ignore")
            value = int(im.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - no readable EXIF: the pixels as stored
        return 1
    return value if 1 <= value <= 8 else 1


def upright(image: np.ndarray, orientation: int) -> np.ndarray:
    """An image's pixels as stored, (H, W, ...), turned as EXIF ``orientation`` (1-8) says to show them: what
    photo viewers and ``cv2.imread`` show. Orientations 5-8 swap H and W.

    Example:
        >>> a = np.arange(6).reshape(2, 3)
        >>> upright(a, 6).tolist(), upright(a, 3).tolist()   # 6: turned 90 degrees clockwise; 3: half a turn
        ([[3, 0], [4, 1], [5, 2]], [[5, 4, 3], [2, 1, 0]])
    """
    a = image.swapaxes(0, 1) if orientation in (5, 6, 7, 8) else image
    rows = orientation in (3, 4, 7, 8)  # flip top to bottom (after the transpose)
    cols = orientation in (2, 3, 6, 7)  # flip left to right
    return np.ascontiguousarray(a[::-1 if rows else 1, ::-1 if cols else 1])


def write_image(path: str | Path, image: np.ndarray) -> Path:
    """Write an RGB uint8 image atomically (temporary file, then rename), PNG or JPEG by suffix.

    Raises:
        DffkitError: an unknown suffix, a missing or unwritable folder.
    """
    p = Path(path)
    if p.suffix.lower() not in (".png", ".jpg", ".jpeg"):
        raise DffkitError(f"{p}: output must end in .png, .jpg or .jpeg")
    folder = p.parent if str(p.parent) else Path(".")
    if not folder.is_dir():
        raise DffkitError(f"{folder}: output folder does not exist; create it first")
    rgb = to_rgb_uint8(image, name="output image")
    ok, buf = cv2.imencode(p.suffix.lower(), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    if not ok:
        raise DffkitError(f"{p}: could not encode the image")
    try:
        return atomic_write(p, buf.tobytes())
    except OSError as exc:
        raise DffkitError(f"{p}: cannot write there ({exc.strerror}); choose another output path") from None


def _jpeg_complete(data: np.ndarray) -> bool:
    """True when a JPEG byte stream ends with its end-of-image marker (FF D9), padding allowed."""
    tail = data[-64:]
    idx = np.nonzero((tail[:-1] == 0xFF) & (tail[1:] == 0xD9))[0]
    return idx.size > 0


#: Words in a decoder's message that mean the file is damaged.
_DAMAGE_WORDS = ("premature end", "incomplete", "truncated", "corrupt", "crc error", "read error")


def _decode(data: np.ndarray) -> tuple[np.ndarray | None, list[str]]:
    """``cv2.imdecode`` with OpenCV's logging silenced and the C decoders' stderr captured (nothing reaches
    the terminal). Returns (image or None, the decoders' message lines)."""
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        with captured_stderr() as messages:
            img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    finally:
        cv2.utils.logging.setLogLevel(level)
    return img, messages
