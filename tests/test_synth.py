"""Ground truth of synthesised datasets: checked against exact reconstructions, not stored numbers."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import cv2
import numpy as np
import pytest

from dffkit import DffkitError, project
from dffkit.data.dataset import SynthDataset
from dffkit.data.generate import generate_dataset
from dffkit.data.photos import default_images, image_split
from dffkit.data.synth import SynthConfig
from dffkit.face.landmarks import dense_landmarks

N, SIZE, SHARD = 12, 96, 5


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "ds"
    generate_dataset(out, n=N, size=SIZE, seed=7, workers=0, shard_size=SHARD, progress=False)
    return SynthDataset(out)


def test_dataset_has_all_samples_and_fields(dataset):
    assert len(dataset) == N and dataset.complete
    s = dataset[3]
    assert s.index == 3 and s.image.shape == (SIZE, SIZE, 3) and s.image.dtype == np.uint8
    assert s.triangle_ids.shape == (SIZE, SIZE) and s.landmarks68.shape == (68, 2) and s.dense.shape == (160, 2)
    assert s.p_id.shape == (100,) and s.p_exp.shape == (53,) and s.camera.to_vector().shape == (6,)


def test_landmarks_reproject_from_the_stored_shape_and_camera(dataset, model):
    dense = dense_landmarks(model, 160)
    for s in dataset:
        shape = s.vertices(model)
        np.testing.assert_allclose(project(shape[model.landmarks68], s.camera), s.landmarks68, atol=1e-3)
        np.testing.assert_allclose(project(shape[dense], s.camera), s.dense, atol=1e-3)


def test_visibility_and_triangle_ids_agree_with_a_fresh_z_buffer(dataset, model, renderer):
    dense = dense_landmarks(model, 160)
    for s in dataset:
        out = renderer.render(s.vertices(model), model.triangles, s.camera, size=SIZE)
        np.testing.assert_array_equal(out.triangle_ids, s.triangle_ids)
        np.testing.assert_array_equal(out.vertex_visible[model.landmarks68], s.visible68)
        np.testing.assert_array_equal(out.vertex_visible[dense], s.visible_dense)


def test_triangle_ids_agree_with_the_landmarks(dataset, model):
    """At a visible landmark's pixel, the triangle-id map shows the surface next to the landmark vertex:
    the pixel's 3D surface point lies within the pixel's footprint (plus a depth allowance) of it."""
    near = total = 0
    for s in dataset:
        shape = s.vertices(model)
        points = s.surface_points(model)
        for lm in np.nonzero(s.visible68)[0]:
            x, y = np.rint(s.landmarks68[lm]).astype(int)
            if 0 <= x < SIZE and 0 <= y < SIZE and s.triangle_ids[y, x] >= 0:
                total += 1
                gap = np.linalg.norm(points[y, x] - shape[model.landmarks68[lm]])
                near += gap < 1.0 / s.camera.s + 0.3  # 0.71 px in the image, and 3 mm along a slanted surface
    assert total > 100 and near / total > 0.95  # the rest: an eyeball or lip in front at the pixel's offset


def test_surface_points_project_onto_their_pixels(dataset, model):
    s = dataset[0]
    pts = s.surface_points(model)
    rows, cols = np.nonzero(s.triangle_ids >= 0)
    np.testing.assert_allclose(project(pts[rows, cols].astype(np.float64), s.camera), np.c_[cols, rows], atol=2e-3)
    assert np.isnan(pts[s.triangle_ids < 0]).all()


def test_poses_cover_the_configured_range(tmp_path, few_photos):
    cfg = SynthConfig(size=64)
    out = generate_dataset(tmp_path / "ds", images=few_photos, split="all", n=40, size=64, seed=1, workers=0,
                           shard_size=40, config=cfg, progress=False)
    yaw = np.degrees([s.camera.yaw for s in SynthDataset(out)])
    assert yaw.min() >= -90 and yaw.max() <= 90 and yaw.max() - yaw.min() > 120


def test_samples_depend_only_on_seed_and_index(dataset, tmp_path):
    other = generate_dataset(tmp_path / "ds2", n=N, size=SIZE, seed=7, workers=2, shard_size=3, progress=False)
    ds2 = SynthDataset(other)
    for a, b in zip(dataset, ds2):
        np.testing.assert_array_equal(a.image, b.image)
        np.testing.assert_array_equal(a.triangle_ids, b.triangle_ids)
    different = generate_dataset(tmp_path / "ds3", n=2, size=SIZE, seed=8, workers=0, shard_size=5, progress=False)
    assert not np.array_equal(SynthDataset(different)[0].image, dataset[0].image)


def test_resume_redoes_only_missing_shards(dataset, tmp_path):
    out = tmp_path / "copy"
    shutil.copytree(dataset.root, out)
    victim = out / "shard-00001.npz"
    original = np.load(victim)["image"].copy()
    victim.unlink()  # as if the run had stopped before this shard
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["shards"][1]["done"] = False
    (out / "manifest.json").write_text(json.dumps(manifest))
    assert len(SynthDataset(out)) == N - SHARD and not SynthDataset(out).complete
    kept = {p.name: p.stat().st_mtime_ns for p in out.glob("shard-*.npz")}
    generate_dataset(out, n=N, size=SIZE, seed=7, workers=0, shard_size=SHARD, progress=False)
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("shard-*.npz") if p.name in kept} == kept
    np.testing.assert_array_equal(np.load(victim)["image"], original)
    assert SynthDataset(out).complete and not list(out.glob(".*part"))


def test_sources_come_from_the_requested_split_only(dataset, tmp_path):
    src = dataset.sources()
    assert set(src.splits.tolist()) == {"train"}
    assert all(image_split(n) == "train" for n in src.names)
    val = SynthDataset(generate_dataset(tmp_path / "val", n=2, size=64, split="val", workers=0, progress=False))
    assert set(val.sources().names.tolist()).isdisjoint(src.names.tolist())


def test_fit_quality_of_the_vendored_sources(dataset):
    nme = dataset.sources().nme
    assert np.median(nme) < 0.03


def test_another_config_in_the_same_folder_is_refused(dataset):
    with pytest.raises(DffkitError, match="another config"):
        generate_dataset(dataset.root, n=N + 1, size=SIZE, seed=7, workers=0, shard_size=SHARD, progress=False)


def _photo_folder(tmp_path, good=1, unreadable=0, blank=0):
    folder = tmp_path / "photos"
    folder.mkdir()
    train = [p for p in sorted(default_images().glob("*.jpg")) if image_split(p.name) == "train"]
    for p in train[:good]:
        shutil.copy(p, folder)
        shutil.copy(p.with_suffix(".pts"), folder)
    for k in range(unreadable):
        (folder / f"broken{k}_1.jpg").write_text("not an image")
        shutil.copy(train[0].with_suffix(".pts"), folder / f"broken{k}_1.pts")
    for k in range(blank):
        cv2.imwrite(str(folder / f"blank{k}_1.jpg"), np.full((120, 120, 3), 90, np.uint8))
    return folder


def test_bad_images_are_counted_in_one_line_or_named_when_asked(tmp_path, capsys):
    folder = _photo_folder(tmp_path, good=1, unreadable=3)
    out = generate_dataset(tmp_path / "ds", images=folder, split="all", n=2, size=64, workers=0, progress=False)
    assert len(SynthDataset(out)) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "3 of 4 images could not be used" in err[0] and "not a readable image" in err[0]
    named: list[str] = []
    generate_dataset(tmp_path / "ds2", images=folder, split="all", n=2, size=64, workers=0, progress=False,
                     warn=named.append)
    assert sorted(line.split(":")[0] for line in named) == ["broken0_1.jpg", "broken1_1.jpg", "broken2_1.jpg"]


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "dffkit.cli", "synth", *args], capture_output=True, text=True,
                          timeout=300)


@pytest.mark.parametrize("case", ["empty", "unreadable", "no_face"])
def test_unusable_photo_folders_get_one_line_and_leave_no_dataset(tmp_path, case):
    if case == "empty":
        folder = tmp_path / "photos"
        folder.mkdir()
    elif case == "unreadable":
        folder = _photo_folder(tmp_path, good=0, unreadable=2)
    else:
        folder = _photo_folder(tmp_path, good=0, blank=1)
    r = _cli("--images", str(folder), "--split", "all", "--out", str(tmp_path / "ds"), "--n", "2", "--workers", "0",
             "--quiet")
    assert r.returncode == 2
    assert len(r.stderr.strip().splitlines()) == 1 and r.stderr.startswith("dffkit synth: error:")
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "ds" / "manifest.json").exists() and not list((tmp_path / "ds").glob("shard-*"))


@pytest.mark.parametrize("args", [["--n", "0"], ["--size", "8"], ["--workers", "-1"], ["--split", "bogus"],
                                  ["--images", "/no/such/folder"]])
def test_out_of_range_arguments_exit_2(tmp_path, args):
    r = _cli("--out", str(tmp_path / "ds"), "--quiet", *args)
    assert r.returncode == 2 and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "ds" / "manifest.json").exists()


def test_reader_names_a_corrupt_shard_and_a_missing_manifest(dataset, tmp_path):
    out = tmp_path / "c"
    shutil.copytree(dataset.root, out)
    (out / "shard-00000.npz").write_bytes(b"garbage")
    with pytest.raises(DffkitError, match="unreadable"):
        SynthDataset(out)[0]
    with pytest.raises(DffkitError, match="manifest"):
        SynthDataset(tmp_path)
