from __future__ import annotations

import time

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from dffkit import DffkitError
from dffkit.camera import frame_camera
from dffkit.segment import (build_segmentations, face_region_triangles, load_segmentations, patch_areas,
                            pixel_labels, triangle_adjacency)

N_PATCHES = 500


@pytest.fixture(scope="module")
def segs(model):
    return build_segmentations(model, n_segmentations=3, n_patches=N_PATCHES, seed=0, progress=False)


@pytest.fixture(scope="module")
def region(model):
    return face_region_triangles(model)


def _areas(model, tris):
    v = model.mean.astype(np.float64)[model.triangles[tris]]
    return 0.5 * np.linalg.norm(np.cross(v[:, 1] - v[:, 0], v[:, 2] - v[:, 0]), axis=1)


def test_exactly_n_patches_all_non_empty(segs, region):
    for lab in segs.labels:
        counts = np.bincount(lab[region], minlength=N_PATCHES)
        assert len(counts) == N_PATCHES and (counts > 0).all()


def test_every_face_triangle_labelled_and_nothing_else(segs, region, model):
    outside = np.setdiff1d(np.arange(model.n_triangles), region)
    assert (segs.labels[:, region] >= 0).all()
    assert (segs.labels[:, outside] == -1).all()


def test_each_patch_is_one_connected_component(segs, region, model):
    graph = triangle_adjacency(model.mean, model.triangles[region]).tocoo()
    for lab in segs.labels[:, region]:
        same = lab[graph.row] == lab[graph.col]
        sub = sp.coo_matrix((np.ones(same.sum()), (graph.row[same], graph.col[same])), shape=graph.shape)
        n_components = connected_components(sub, directed=False)[0]
        assert n_components == N_PATCHES


def test_patch_areas_are_uniform(segs, region, model):
    areas = _areas(model, region)
    for lab in segs.labels[:, region]:
        a = patch_areas(lab.astype(np.int64), areas, N_PATCHES)
        cv = a.std() / a.mean()
        # The face region has ~26 triangles per patch with areas spanning 3.6 orders of magnitude;
        # Lloyd's CVT reaches a CV near 0.25 (random Voronoi cells, without Lloyd: about 0.5).
        assert cv < 0.3


def test_lloyd_makes_patches_more_uniform_than_random_generators(model, region):
    areas = _areas(model, region)
    once = build_segmentations(model, 1, N_PATCHES, seed=5, max_iter=1, progress=False).labels[0, region]
    cvt = build_segmentations(model, 1, N_PATCHES, seed=5, progress=False).labels[0, region]
    cv = [patch_areas(lab.astype(np.int64), areas, N_PATCHES) for lab in (once, cvt)]
    assert cv[1].std() / cv[1].mean() < 0.75 * (cv[0].std() / cv[0].mean())


def test_different_seeds_differ_and_same_seed_repeats(model, segs, region):
    again = build_segmentations(model, 2, N_PATCHES, seed=0, progress=False)
    np.testing.assert_array_equal(again.labels, segs.labels[:2])
    other = build_segmentations(model, 1, N_PATCHES, seed=1, progress=False)
    assert (other.labels[0, region] != segs.labels[0, region]).mean() > 0.5
    assert (segs.labels[0, region] != segs.labels[1, region]).mean() > 0.5


def test_cache_round_trip_and_stale_file_rebuilds(model, tmp_path, monkeypatch):
    monkeypatch.setenv("DFFKIT_CACHE", str(tmp_path))
    a = load_segmentations(model, 2, 50, seed=3, progress=False)
    files = list(tmp_path.glob("segmentations-*.npz"))
    assert len(files) == 1
    t0 = time.perf_counter()
    b = load_segmentations(model, 2, 50, seed=3, progress=False)
    assert time.perf_counter() - t0 < 0.5  # read, not rebuilt
    np.testing.assert_array_equal(a.labels, b.labels)
    files[0].write_bytes(b"corrupt")
    c = load_segmentations(model, 2, 50, seed=3, progress=False)
    np.testing.assert_array_equal(a.labels, c.labels)


def test_pixel_labels_follow_the_triangle_ids(model, renderer, segs):
    w = frame_camera(model.mean[model.vertices_of("face")], 128, yaw=0.6)
    out = renderer.render(model.mean, model.triangles, w, size=128)
    lab = pixel_labels(segs, out.triangle_ids)
    assert lab.shape == (3, 128, 128) and lab.dtype == np.int16
    assert (lab[:, ~out.mask] == -1).all()
    rows, cols = np.nonzero(out.mask)
    np.testing.assert_array_equal(lab[:, rows, cols], segs.labels[:, out.triangle_ids[rows, cols]])
    assert (lab[0] >= 0).sum() > 0.3 * out.mask.sum()  # the face region is a large part of the head


def test_pixel_labels_stay_on_the_same_anatomy_across_identities_and_poses(model, renderer, segs):
    """The pixel under a landmark vertex carries a patch of the triangles around that vertex, whatever
    the identity and pose: the labels travel with the surface."""
    rng = np.random.default_rng(0)
    tri = model.triangles
    for lm in (30, 27, 19, 8):  # nose tip, nose bridge, brow, chin: no eyeball or lip in front
        v = model.landmarks68[lm]
        ring = np.array([v])
        for _ in range(2):  # the pixel centre is within 0.71 px: allow two rings of small triangles
            ring = np.unique(tri[np.isin(tri, ring).any(1)])
        allowed = set(segs.labels[0, np.isin(tri, ring).any(1)].tolist())
        assert -1 not in allowed
        for yaw in (-0.5, 0.0, 0.5):
            shape = model.shape(model.sample_identity(rng))
            w = frame_camera(shape[model.vertices_of("face")], 192, yaw=yaw)
            out = renderer.render(shape, model.triangles, w, size=192)
            x, y = np.rint(out.vertices_image[v, :2]).astype(int)
            if out.vertex_visible[v]:
                assert int(pixel_labels(segs, out.triangle_ids)[0, y, x]) in allowed


def test_pixel_labels_batched_and_mismatched_mesh(segs):
    ids = np.full((2, 4, 4), -1)
    ids[1, 2, 2] = 7
    out = pixel_labels(segs, ids)
    assert out.shape == (2, 3, 4, 4) and out[1, :, 2, 2].tolist() == segs.labels[:, 7].tolist()
    with pytest.raises(DffkitError, match="different meshes"):
        pixel_labels(segs, np.full((4, 4), 10**6))


def test_bad_patch_count_is_named(model):
    with pytest.raises(DffkitError, match="n_patches"):
        build_segmentations(model, 1, 10**6, progress=False)
