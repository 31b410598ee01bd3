from __future__ import annotations

import numpy as np
import pytest

from dffkit import DffkitError
from dffkit.dff.segment import (
    Segmentations,
    build_segmentations,
    face_region_triangles,
    load_segmentations,
    patch_areas,
    pixel_labels,
    segmentation_stats,
    triangle_adjacency,
    triangle_areas,
)
from dffkit.face.camera import frame_camera

N_PATCHES = 500


@pytest.fixture(scope="module")
def segs(model):
    return build_segmentations(model, n_segmentations=3, n_patches=N_PATCHES, seed=0, progress=False)


@pytest.fixture(scope="module")
def region(model):
    return face_region_triangles(model)


def _areas(model, tris):
    return triangle_areas(model.mean, model.triangles[tris])


def test_exactly_n_patches_all_non_empty_connected_and_uniform(segs, model):
    stats = segmentation_stats(model, segs)
    assert (stats["n_patches"] == N_PATCHES).all()
    assert stats["connected"].all()
    # The face region has ~26 triangles per patch with areas spanning 3.6 orders of magnitude;
    # Lloyd's CVT reaches a CV near 0.25 (random generators without Lloyd: about 0.5).
    assert (stats["area_cv"] < 0.3).all()


def test_every_face_triangle_labelled_and_nothing_else(segs, region, model):
    outside = np.setdiff1d(np.arange(model.n_triangles), region)
    assert (segs.labels[:, region] >= 0).all()
    assert (segs.labels[:, outside] == -1).all()


def test_stats_detect_a_split_patch_and_an_empty_one(model, region):
    """segmentation_stats on a hand-made labelling: two far-apart triangles share patch 0, patch 2 is empty."""
    graph = triangle_adjacency(model.mean, model.triangles[region])
    assert graph[0, len(region) - 1] == 0  # the first and last region triangles are not neighbours
    labels = np.full((1, model.n_triangles), -1, np.int16)
    labels[0, region] = 1
    labels[0, region[[0, -1]]] = 0  # patch 0: two separate triangles
    stats = segmentation_stats(model, Segmentations(labels=labels, n_patches=3, seed=0, iterations=np.ones(1)))
    assert stats["n_patches"][0] == 2
    assert not stats["connected"][0]


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
    from dffkit.dff import segment

    builds = []
    real_build = segment.build_segmentations
    monkeypatch.setattr(segment, "build_segmentations", lambda *a, **k: builds.append(1) or real_build(*a, **k))
    b = load_segmentations(model, 2, 50, seed=3, progress=False)
    assert builds == []  # read, not rebuilt
    np.testing.assert_array_equal(a.labels, b.labels)
    files[0].write_bytes(b"corrupt")
    c = load_segmentations(model, 2, 50, seed=3, progress=False)
    assert builds == [1]  # a damaged file is rebuilt
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
