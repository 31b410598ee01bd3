from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from dffkit import DffkitError
from dffkit.images import read_image, to_rgb_uint8, write_image


@pytest.fixture
def photo(tmp_path):
    img = np.zeros((40, 60, 3), np.uint8)
    img[:, :, 0] = 200  # red in RGB
    path = tmp_path / "p.jpg"
    cv2.imwrite(str(path), img[..., ::-1])
    return path


def test_reads_rgb_in_rgb_order(photo):
    img = read_image(photo)
    assert img.shape == (40, 60, 3) and img.dtype == np.uint8
    assert img[..., 0].mean() > 150 and img[..., 2].mean() < 30


@pytest.mark.parametrize("kind", ["gray", "rgba", "u16"])
def test_grayscale_rgba_and_16_bit_become_rgb_uint8(tmp_path, kind):
    if kind == "gray":
        arr = np.full((32, 32), 100, np.uint8)
    elif kind == "rgba":
        arr = np.dstack([np.full((32, 32, 3), 200, np.uint8), np.full((32, 32), 128, np.uint8)])
    else:
        arr = np.full((32, 32, 3), 65535, np.uint16)
    path = tmp_path / f"{kind}.png"
    cv2.imwrite(str(path), arr)
    img = read_image(path)
    assert img.shape == (32, 32, 3) and img.dtype == np.uint8
    expected = {"gray": 100, "rgba": 100, "u16": 255}[kind]
    assert abs(int(img[0, 0, 0]) - expected) <= 1


@pytest.mark.parametrize("case,match", [
    ("missing", "no such file"), ("empty", "empty"), ("text", "not a readable image"),
    ("truncated", "truncated JPEG"), ("tiny", "at least"), ("folder", "folder"),
])
def test_bad_files_get_a_one_line_error(tmp_path, photo, case, match):
    path = tmp_path / "x.jpg"
    if case == "empty":
        path.write_bytes(b"")
    elif case == "text":
        path.write_text("this is not an image\n")
    elif case == "truncated":
        data = photo.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif case == "tiny":
        cv2.imwrite(str(path), np.zeros((10, 10, 3), np.uint8))
    elif case == "folder":
        path.mkdir()
    with pytest.raises(DffkitError, match=match) as err:
        read_image(path)
    assert "\n" not in str(err.value)


def test_float_images_are_scaled_and_nan_rejected():
    assert to_rgb_uint8(np.ones((20, 20, 3)))[0, 0, 0] == 255
    with pytest.raises(DffkitError, match="NaN"):
        to_rgb_uint8(np.full((20, 20, 3), np.nan))


def test_write_is_atomic_and_names_a_missing_folder(tmp_path):
    img = np.zeros((20, 20, 3), np.uint8)
    out = write_image(tmp_path / "a.png", img)
    assert out.exists() and [p.name for p in tmp_path.iterdir()] == ["a.png"]
    with pytest.raises(DffkitError, match="does not exist"):
        write_image(tmp_path / "nope" / "a.png", img)


def test_write_names_an_unwritable_folder(tmp_path):
    if os.geteuid() == 0:
        ro = Path("/proc")  # root may write anywhere on disk, but not into procfs
    else:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o500)
    with pytest.raises(DffkitError, match="cannot write"):
        write_image(ro / "a.png", np.zeros((20, 20, 3), np.uint8))
    assert not (ro / "a.png").exists()


@pytest.mark.parametrize("orientation", range(1, 9))
def test_a_photo_is_read_upright_as_its_exif_orientation_says(tmp_path, orientation):
    from PIL import Image

    rng = np.random.default_rng(orientation)
    pixels = cv2.GaussianBlur(cv2.resize((rng.random((10, 16, 3)) * 255).astype(np.uint8), (64, 40)), (0, 0), 2)
    im = Image.fromarray(pixels)
    exif = im.getexif()
    exif[0x0112] = orientation
    path = tmp_path / f"o{orientation}.jpg"
    im.save(path, exif=exif, quality=98)
    shown = cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)  # OpenCV's own reader turns it
    img = read_image(path)
    assert img.shape == shown.shape == ((64, 40, 3) if orientation >= 5 else (40, 64, 3))
    assert np.array_equal(img, shown)


def test_a_phone_portrait_stored_sideways_is_aligned_upright(tmp_path):
    from conftest import shared
    from PIL import Image

    from dffkit.alignment.cascade import align_all

    upright = read_image(shared("group-photos", "couple.jpg"))
    upright = cv2.resize(upright, (upright.shape[1] // 3, upright.shape[0] // 3), interpolation=cv2.INTER_AREA)
    im = Image.fromarray(np.rot90(upright, 1).copy())  # stored a quarter turn anticlockwise, as a phone does
    exif = im.getexif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to show"
    path = tmp_path / "portrait.jpg"
    im.save(path, exif=exif, quality=95)
    faces = align_all(read_image(path))
    assert len(faces) >= 2 and all(abs(a.pose.roll_deg) < 30 for a in faces)
