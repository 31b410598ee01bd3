"""Chapter 5, feature matching: SIFT against sparse and dense DFF on rendered view pairs of held-out faces,
the descriptor's angular spread, landmark transfer between real images, and the paper's Figs. 8 and 9."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dffkit.data.photos import default_images, list_images
from dffkit.data.sources import fit_sources
from dffkit.data.synth import generate_pairs
from dffkit.dff.features import DffRunner
from dffkit.dff.weights import load_weights
from dffkit.evaluation.matching import angular_spread, evaluate_matching, image_transfer, match_pair, paper_descriptors
from dffkit.evaluation.results import MatchingResults
from dffkit.face.model import FaceModel
from dffkit.matching.correspond import true_matches, view_angle
from dffkit.matching.match import DFF_DENSE_ANGLE, mask_points, match_nearest
from dffkit.metrics import correct_matches
from dffkit.viz import correspondence_colors, draw_matches, grid_figure

__all__ = ["network", "held_out_images", "view_pairs", "measure", "shown_pairs", "sparse_figure", "dense_figure"]


def network(weights: str | Path | None) -> DffRunner:
    """The DFF network the chapter measures (``weights``, or the shipped weights)."""
    return DffRunner(load_weights(weights))


def held_out_images(images: str | Path | None, split: str = "test", limit: int | None = None) -> list:
    """The annotated images of a split (of ``images``, or of the vendored sample), the first ``limit``."""
    return list_images(Path(images) if images else default_images(), split=split, require_landmarks=True)[:limit]


def view_pairs(model: FaceModel, faces: list, n_pairs: int, size: int, seed: int = 0) -> list[tuple]:
    """``n_pairs`` rendered view pairs of the fitted held-out faces (seeded)."""
    return generate_pairs(fit_sources(model, faces, progress=False), n_pairs, seed=seed, size=size, model=model,
                          progress=False)


def measure(model: FaceModel, pairs: list[tuple], net: DffRunner, transfer_images: list, radius: float,
            dense_stride: int, transfer_per_bin: int, seed: int = 0) -> MatchingResults:
    """The matchers on every pair, the angular spread, and landmark transfer between the real images."""
    return MatchingResults(
        matching=evaluate_matching(model, pairs, net, radius=radius, dense_stride=dense_stride),
        spread=angular_spread(model, pairs, net, seed=seed),
        transfer=image_transfer(transfer_images, net, transfer_per_bin, seed=seed, model=model))


def shown_pairs(pairs: list[tuple], targets_deg: tuple[float, ...] = (15.0, 45.0, 75.0)) -> list[int]:
    """The pairs whose view difference is nearest each target angle."""
    angles = np.array([view_angle(a.camera, b.camera) for a, b in pairs])
    return [int(np.argmin(np.abs(angles - t))) for t in targets_deg]


def sparse_figure(model: FaceModel, pairs: list[tuple], net: DffRunner, radius: float, size: int):
    """Valid SIFT (left) and sparse DFF (right) matches of three pairs; green correct, red wrong (paper Fig. 8)."""
    shown = shown_pairs(pairs)
    panels = []
    for k in shown:
        va, vb = pairs[k]
        matches, _ = match_pair(va, vb, paper_descriptors(net))
        for method in ("sift", "dff-sparse"):
            m = matches[method]
            ok = correct_matches(m, true_matches(model, va, vb, m.source), radius)
            panels.append(draw_matches(va.image, vb.image, m.source[m.valid], m.target[m.valid], ok[m.valid],
                                       height=size))
    angles = "  ".join(f"{view_angle(pairs[k][0].camera, pairs[k][1].camera):.0f}°" for k in shown)
    return grid_figure(panels, cols=2, width=14, title=f"{angles}  (rows: view difference; left SIFT, right DFF)")


def dense_figure(model: FaceModel, pairs: list[tuple], net: DffRunner):
    """Dense DFF colour coding of three pairs: source, target through DFF, target through the truth (paper Fig. 9)."""
    dff = paper_descriptors(net)[1]
    rows = []
    for k in shown_pairs(pairs):
        va, vb = pairs[k]
        fa, fb = (dff.describe_face(v.image, np.array([0.0, 0.0, float(v.image.shape[1])])) for v in (va, vb))
        mask_a, mask_b = va.triangle_ids >= 0, vb.triangle_ids >= 0
        dense = match_nearest(fa, fb, mask_points(mask_a, 1), mask_b, max_angle=DFF_DENSE_ANGLE)
        truth = true_matches(model, va, vb, dense.source)
        src_c, dff_c = correspondence_colors(mask_a, mask_b.shape, dense.source, dense.target, dense.valid)
        _, true_c = correspondence_colors(mask_a, mask_b.shape, dense.source, truth.target, truth.visible)
        rows += [va.image, src_c, vb.image, dff_c, true_c]
    return grid_figure(rows, cols=5, width=14)
