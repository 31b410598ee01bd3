"""The foundation modules: atomic writes and folder locks, boxes and crops, result files and tables,
drawing, and the resident default detector."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from dffkit import DffkitError
from dffkit.atomic import atomic_write, folder_lock, npz_bytes, remove_partial_files
from dffkit.boxes import crop_affine, crop_grid, square_crop, to_crop, to_image, warp_crop
from dffkit.evaluation.report import project_root, save_results, table
from dffkit.viz import HIDDEN_RGB, VISIBLE_RGB, draw_landmarks, framed_view


def test_atomic_write_leaves_nothing_when_the_writer_fails(tmp_path):
    def boom(fh):
        fh.write(b"half")
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        atomic_write(tmp_path / "f.bin", boom)
    assert list(tmp_path.iterdir()) == []


def test_remove_partial_files_clears_what_a_killed_writer_left(tmp_path):
    (tmp_path / ".shard-00001.npz.abc123.part").write_bytes(b"x")
    (tmp_path / "shard-00000.npz").write_bytes(b"kept")
    assert [p.name for p in remove_partial_files(tmp_path)] == [".shard-00001.npz.abc123.part"]
    assert [p.name for p in tmp_path.iterdir()] == ["shard-00000.npz"]


def test_npz_bytes_are_the_same_for_the_same_arrays_and_load_without_pickles(tmp_path):
    arrays = {"a": np.arange(12).reshape(3, 4), "b": np.array(["x", "yz"])}
    data = npz_bytes(arrays)
    assert data == npz_bytes({k: v.copy() for k, v in arrays.items()})
    (tmp_path / "f.npz").write_bytes(data)
    with np.load(tmp_path / "f.npz", allow_pickle=False) as z:
        np.testing.assert_array_equal(z["a"], arrays["a"])


def test_a_second_process_is_refused_the_folder_lock_with_the_holders_pid(tmp_path):
    code = textwrap.dedent(f"""
        from dffkit.atomic import folder_lock
        from dffkit.errors import DffkitError
        try:
            with folder_lock({str(tmp_path)!r}, "test"):
                print("acquired")
        except DffkitError as e:
            print("refused:", e)
    """)
    with folder_lock(tmp_path, "test"):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
        assert r.stdout.startswith("refused:") and f"pid {os.getpid()}" in r.stdout
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.strip() == "acquired"


def test_crop_maps_are_inverse_and_match_the_warp():
    crop = square_crop(np.array([20.0, 30.0, 80.0, 110.0]))
    pts = np.random.default_rng(0).uniform(0, 100, (10, 2))
    np.testing.assert_allclose(to_image(to_crop(pts, crop, 64), crop, 64), pts, atol=1e-9)
    k, shift = crop_affine(crop, 64)
    np.testing.assert_allclose(to_crop(pts, crop, 64), k * pts + shift)
    image = np.zeros((200, 200, 3), np.uint8)
    image[50:52, 60:62] = 255  # a bright square centred at (60.5, 50.5)
    warped = warp_crop(image, crop, 64).astype(float)[..., 0]
    peak = np.array(np.unravel_index(np.argmax(warped), warped.shape))[::-1]
    assert np.linalg.norm(peak - to_crop(np.array([[60.5, 50.5]]), crop, 64)[0]) < 1.0
    grid = crop_grid(crop, 64, stride=8)
    assert grid.shape == (64, 2) and np.allclose(to_crop(grid[:1], crop, 64), 0.0)


def test_table_renders_html_with_escaped_cells_and_markdown_with_escaped_pipes():
    t = table([{"|yaw|": "[0, 30)", "NME": 0.123456}, {"|yaw|": "<b>", "NME": float("nan")}], digits=2)
    html = t._repr_html_()
    assert html.count("<tr>") == 3 and "&lt;b&gt;" in html and "<td>0.12</td>" in html and "<td>–</td>" in html
    assert t.to_markdown().splitlines()[0] == "| \\|yaw\\| | NME |"


def test_results_record_paths_relative_to_the_project(tmp_path):
    inside = project_root() / "dffkit" / "assets" / "photos"
    path = save_results(tmp_path / "r.json", {"x": 1.5}, {"images": inside, "other": "/nowhere/x"})
    doc = json.loads(path.read_text())
    assert doc["config"] == {"images": "dffkit/assets/photos", "other": "/nowhere/x"}
    assert doc["results"] == {"x": 1.5} and doc["machine"]["cores"] >= 1


def test_visible_points_are_drawn_over_hidden_ones():
    img = np.zeros((40, 40, 3), np.uint8)
    out = draw_landmarks(img, np.array([[20.0, 20.0], [20.0, 20.0]]), np.array([True, False]), radius=3)
    assert tuple(out[20, 20]) == VISIBLE_RGB
    out = draw_landmarks(img, np.array([[20.0, 20.0]]), np.array([False]), radius=3)
    assert tuple(out[20, 20]) == HIDDEN_RGB


@pytest.mark.parametrize("yaw", [0.0, 50.0])
def test_points_drawn_on_a_framed_view_fall_on_its_face(model, renderer, yaw):
    """The render and its overlay share one camera: the visible 68 landmarks land on face pixels."""
    from dffkit.face.camera import project

    out, cam, shape = framed_view(renderer, model, 200, yaw=np.radians(yaw), fill=0.8)
    pts = project(shape[model.landmarks68], cam)
    vis = out.vertex_visible[model.landmarks68]
    ij = np.round(pts[vis]).astype(int)
    assert (out.triangle_ids[ij[:, 1], ij[:, 0]] >= 0).mean() > 0.95


def test_default_detector_is_built_once_and_finds_a_face():
    from dffkit.data.photos import default_images
    from dffkit.detect import default_detector
    from dffkit.images import read_image

    assert default_detector() is default_detector()
    photo = read_image(sorted(default_images().glob("*.jpg"))[0])
    assert len(default_detector().find(photo)) >= 1
    assert len(default_detector().detect(np.full((120, 120, 3), 90, np.uint8))) == 0
    from dffkit.detect import DlibLandmarker

    with pytest.raises(DffkitError, match="no face"):
        DlibLandmarker().largest_face_landmarks(np.full((120, 120, 3), 90, np.uint8))


def test_detector_boxes_map_to_landmark_boxes_and_back():
    from dffkit.detect import DETECTORS, make_detector

    box = np.array([100.0, 120.0, 260.0, 300.0])
    for name in DETECTORS:
        det = make_detector(name)
        back = det.landmark_boxes(det.face_box(box)[None])[0]
        assert np.sqrt(np.prod(back[2:] - back[:2])) == pytest.approx(np.sqrt(np.prod(box[2:] - box[:2])), rel=1e-9)
        np.testing.assert_allclose((back[:2] + back[2:]) / 2, (box[:2] + box[2:]) / 2, atol=1e-9)


@pytest.mark.parametrize("name", ["einstein.jpg", "IBUG_image_008_1_0.jpg", "breakingbad.jpg", "image_0010.png",
                                  "image00050.jpg", "takeo.ppm"])
def test_the_default_detector_finds_the_annotated_face(name):
    """Einstein included: dlib's frontal HOG detector misses him and finds only the small seated man."""
    from conftest import shared

    from dffkit.data.photos import read_landmarks
    from dffkit.detect import default_detector
    from dffkit.images import read_image

    path = shared("faces", name)
    ann = next(path.with_suffix(s) for s in (".pts", ".mat") if path.with_suffix(s).is_file())
    truth = read_landmarks(ann)
    c = (truth.min(0) + truth.max(0)) / 2
    boxes = default_detector().find(read_image(path))
    assert any(b[0] <= c[0] <= b[2] and b[1] <= c[1] <= b[3] for b in boxes)
