"""The reconstructed face as 3D data: meshes that round-trip, and maps registered with the landmarks."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from conftest import shared

from dffkit.alignment.reconstruct import depth_map, face_mesh, mesh_file_vertices, pncc_map, write_mesh
from dffkit.evaluation.reconstruction import landmark_3d_nme, pose_errors, shape_error_mm
from dffkit.images import read_image


@pytest.fixture(scope="module")
def aligned(model, renderer):
    import dffkit

    image = read_image(shared("faces", "image00050.jpg"))
    a = dffkit.align(image)
    return image, a, face_mesh(a, image, model, renderer)


@pytest.mark.parametrize("suffix", [".ply", ".obj"])
def test_a_written_mesh_reads_back_through_open3d_and_trimesh(tmp_path, aligned, suffix):
    import open3d as o3d
    import trimesh

    image, _, mesh = aligned
    path = write_mesh(tmp_path / f"face{suffix}", mesh, image.shape[0])
    want = mesh_file_vertices(mesh, image.shape[0])
    tm = trimesh.load(path, process=False)
    np.testing.assert_allclose(tm.vertices, want, atol=1e-3)
    np.testing.assert_array_equal(tm.faces, mesh.triangles)
    np.testing.assert_array_equal(tm.visual.vertex_colors[:, :3], mesh.colors)
    o = o3d.io.read_triangle_mesh(str(path))
    v, t = np.asarray(o.vertices), np.asarray(o.triangles)
    assert len(t) == len(mesh.triangles) and o.has_vertex_colors()
    # open3d may reorder an OBJ's vertices: compare every triangle's corners and colours instead
    np.testing.assert_allclose(np.sort(v[t].reshape(-1, 3), 0), np.sort(want[mesh.triangles].reshape(-1, 3), 0),
                               atol=1e-3)
    np.testing.assert_allclose(np.sort(np.asarray(o.vertex_colors)[t].reshape(-1, 3) * 255, 0),
                               np.sort(mesh.colors[mesh.triangles].reshape(-1, 3).astype(float), 0), atol=0.51)
    assert [p.name for p in tmp_path.iterdir()] == [f"face{suffix}"]  # no temporary file left


def test_the_depth_map_agrees_with_the_mesh_at_the_visible_landmarks(model, renderer, aligned):
    image, a, mesh = aligned
    d = depth_map(a, model, renderer, image.shape[:2])
    lm = model.landmarks68[a.visible]
    px = np.round(mesh.vertices[lm, :2]).astype(int)
    depth_at = d[px[:, 1], px[:, 0]]
    assert np.isfinite(depth_at).mean() > 0.95
    ok = np.isfinite(depth_at)
    assert np.median(np.abs(depth_at[ok] - mesh.vertices[lm[ok], 2])) < 1.0
    pn = pncc_map(a, model, renderer, image.shape[:2])
    assert (pn[px[:, 1], px[:, 0]].sum(1) > 0).mean() > 0.95 and pn[~np.isfinite(d)].max() == 0


def test_cli_mesh_projects_onto_the_json_landmarks(tmp_path):
    img = shared("faces", "image00050.jpg")
    r = subprocess.run([sys.executable, "-m", "dffkit.cli", "align", str(img), "--json", "--dense", "--mesh",
                        str(tmp_path / "face.ply"), "--depth", str(tmp_path / "d.png"), "--pncc",
                        str(tmp_path / "p.png"), "--pose-axes", str(tmp_path / "a.png")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    face = json.loads(r.stdout)["faces"][0]
    import trimesh

    from dffkit import load_default_model

    m = load_default_model()
    v = trimesh.load(tmp_path / "face.ply", process=False).vertices
    h = read_image(img).shape[0]
    proj = np.c_[v[:, 0], h - 1 - v[:, 1]][m.landmarks68]
    side = np.ptp(proj, axis=0).max()
    # the mesh is in the landmarks' image frame: the refined landmarks sit within a few pixels of the model's
    # own (a flipped or shifted frame would be off by tens); the 2D refinement moves single points, the inner
    # lips of this open mouth by about 3 % of the face
    off = np.linalg.norm(proj - np.array(face["landmarks68"]), axis=1)
    assert np.median(off) < 0.025 * side and off.max() < 0.05 * side  # measured: 1.5 % and 3.1 %
    assert len(face["dense"]["vertex"]) == len(face["dense"]["xyz"]) > 1000
    assert np.allclose(np.array(face["rotation"]) @ np.array(face["rotation"]).T, np.eye(3), atol=1e-5)
    assert {p.name for p in tmp_path.iterdir()} == {"face.ply", "d.png", "p.png", "a.png"}


@pytest.mark.parametrize("option,value,words", [("--mesh", "/no/such/folder/face.ply", "does not exist"),
                                                 ("--mesh", "OUT/face.stl", ".ply or .obj"),
                                                 ("--depth", "OUT/depth.tiff", ".png")])
def test_bad_3d_output_paths_get_one_line_and_nothing_written(tmp_path, option, value, words):
    out = tmp_path / "out"
    out.mkdir()
    r = subprocess.run([sys.executable, "-m", "dffkit.cli", "align", str(shared("faces", "image00050.jpg")), option,
                        value.replace("OUT", str(out))], capture_output=True, text=True, timeout=300)
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2 and len(lines) == 1 and words in lines[0]
    assert list(out.iterdir()) == []


def test_3d_metrics_on_exact_constructions(model):
    from dffkit.face.camera import Camera

    shape = model.shape().astype(np.float64)
    rot = Camera(yaw=0.4, roll=0.2).R
    assert shape_error_mm(1.5 * shape @ rot.T + 3.0, shape) < 1e-6
    assert shape_error_mm(model.shape(np.full(model.n_identity, 0.5)), shape) > 1.0

    class A:  # an alignment whose camera is a 300W-LP Pose_Para's, and whose landmarks are exact
        camera = Camera.from_pose_para(np.array([0.1, -0.5, 0.05, 200, 150, 0, 7.0]), 400)

        @staticmethod
        def shape(m):
            return m.shape()

    e = pose_errors(A, np.array([0.1, -0.5, 0.05, 200, 150, 0, 7.0]), 400)
    assert max(e.yaw_deg, e.pitch_deg, e.roll_deg) < 1e-9
    from dffkit.face.camera import transform

    pt3d = transform(shape[model.landmarks68], A.camera) + [0, 0, 55.0]  # another depth offset
    assert landmark_3d_nme(A, model, pt3d) < 1e-9
