"""Chapter 6, large-pose alignment: the cascade and its baselines on the held-out real images (300-W
protocols), on profiled views of them and on renders (AFLW2000-3D protocols), its 3D shapes, and the
paper's Figs. 6, 7 and 11."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from dffkit.alignment.cascade import Aligner
from dffkit.alignment.geometry import N_DENSE
from dffkit.alignment.reconstruct import depth_map, face_mesh, pncc_map
from dffkit.boxes import box_size, crop_around, landmark_box
from dffkit.data.dataset import Sample, SynthDataset
from dffkit.data.generate import generate_dataset
from dffkit.data.sources import fit_sources
from dffkit.data.synth import generate_pairs
from dffkit.evaluation.alignment import MethodResult, evaluate_alignment, score_real_images
from dffkit.evaluation.methods import landmark_predictor, with_detector_box
from dffkit.evaluation.protocols import Face, load_300w
from dffkit.evaluation.reconstruction import evaluate_shapes
from dffkit.evaluation.report.labels import method_label
from dffkit.evaluation.results import AlignmentResults
from dffkit.evaluation.uncertainty import UncertaintyScore, point_errors, score_uncertainty
from dffkit.face.camera import project
from dffkit.face.landmarks import dense_landmarks
from dffkit.face.model import FaceModel
from dffkit.face.render import Renderer
from dffkit.viz import (
    TRUTH_RGB,
    depth_image,
    draw_landmarks,
    draw_pose_axes,
    framed_view,
    grid_figure,
    label_panel,
    new_figure,
    render_face,
)

__all__ = ["real_faces", "profiled_views", "rendered_views", "measure", "real_uncertainty", "conventions_figure",
           "dense_landmarks_figure", "stages_figure",
           "ced_figure", "comparison_figure", "reconstruction_figure"]


def real_faces(faces: list) -> list[Face]:
    """The held-out real images as 300-W faces."""
    return load_300w(None, faces)


def profiled_views(images: str | Path | None, n: int, size: int, seed: int = 0, folder: str | Path = "profile-test") -> list[Sample]:
    """``n`` profiled views of the held-out (test-split) images, written to ``folder`` by ``dffkit synth``'s code."""
    generate_dataset(folder, images=images, n=n, size=size, seed=seed + 3, split="test", workers=0, mode="profile",
                     progress=False)
    return list(SynthDataset(folder))


def rendered_views(model: FaceModel, faces: list, n_pairs: int, size: int, seed: int = 0) -> list[Sample]:
    """Both views of ``n_pairs`` rendered pairs of the first held-out faces (at least 8 of them fitted)."""
    sources = fit_sources(model, faces[:max(8, n_pairs)], progress=False)
    return [v for pair in generate_pairs(sources, n_pairs, seed=seed + 100, size=size, model=model, progress=False)
            for v in pair]


def measure(model: FaceModel, aligner: Aligner, faces: list[Face], profiled: list[Sample], rendered: list[Sample],
            methods: Sequence[str], real_methods: Sequence[str], detector_methods: Sequence[str]) -> AlignmentResults:
    """Every method on the real faces in the 2D convention of their 300-W annotation (``real_methods`` with the
    true box, ``detector_methods`` also with the detector's), and ``methods`` on the profiled and rendered
    views in the 3D convention of AFLW2000-3D; the cascade's 3D shapes on the profiled ones."""
    predictors = {m: landmark_predictor(m, model) for m in methods}
    in_2d = {m: landmark_predictor(m, model, convention="2d") for m in dict.fromkeys([*real_methods, *detector_methods])}
    real = {(m, "truth"): in_2d[m] for m in real_methods}
    real.update({(m, "detector"): with_detector_box(in_2d[m]) for m in detector_methods})
    in_2d.update({m: landmark_predictor(m, model, convention="2d") for m in methods if m not in in_2d})
    return AlignmentResults(
        real=score_real_images(faces, real),
        profiled=evaluate_alignment(profiled, {m: predictors[m] for m in methods}, "profiled"),
        rendered=evaluate_alignment(rendered, {m: predictors[m] for m in methods}, "rendered"),
        shapes=evaluate_shapes(profiled, aligner, model), n_stages=len(aligner.reg.stages),
        profiled_2d=evaluate_alignment(profiled, {m: in_2d[m] for m in methods}, "profiled", convention="2d"),
        uncertainty=real_uncertainty(aligner, faces),
        n_refine=max((len(s) for s in aligner.reg.refine.values()), default=0))


def real_uncertainty(aligner: Aligner, faces: list[Face]) -> UncertaintyScore | None:
    """How the per-point uncertainty of ``landmarks_2d`` ranks its errors on real faces (None without one)."""
    if "2d" not in aligner.reg.uncertainty:
        return None
    aligned = [aligner.align(f.read(), f.landmark_box) for f in faces]
    sizes = np.array([box_size(f.landmark_box) for f in faces])
    return score_uncertainty(point_errors(np.stack([a.landmarks_2d for a in aligned]), faces),
                             np.stack([a.uncertainty_2d for a in aligned]) / sizes[:, None], "2d")


def conventions_figure(aligner: Aligner, profiled: list[Sample], model: FaceModel):
    """The largest-yaw profiled view in both conventions: ``landmarks`` (the model's landmark vertices, hidden
    ones red) against their truth, and ``landmarks_2d`` (the jawline on the silhouette) against theirs."""
    s = max(profiled, key=lambda v: abs(v.camera.yaw))
    a = aligner.align(s.image, landmark_box(s.landmarks68))
    truth = s.conventions(model)
    panels = [label_panel(draw_landmarks(draw_landmarks(s.image, truth["3d"], color=TRUTH_RGB), a.landmarks, a.visible),
                          "landmarks (3D convention)"),
              label_panel(draw_landmarks(draw_landmarks(s.image, truth["2d"], color=TRUTH_RGB), a.landmarks_2d),
                          "landmarks_2d (2D convention)")]
    return grid_figure(panels, cols=2, width=9)


def dense_landmarks_figure(model: FaceModel, renderer: Renderer):
    """The 68 landmarks (green) and the 92 further dense vertices (red) at yaw 0° and 50° (paper Fig. 7)."""
    dense = dense_landmarks(model, N_DENSE)
    views = []
    for yaw in (0.0, 50.0):
        out, cam, shape = framed_view(renderer, model, 320, yaw=np.radians(yaw), fill=0.8)
        pts, vis = project(shape[dense], cam), out.vertex_visible[dense]
        img = draw_landmarks(out.image, pts[68:][vis[68:]], np.zeros(int(vis[68:].sum()), bool))
        views.append(label_panel(draw_landmarks(img, pts[:68][vis[:68]]), f"yaw {yaw:.0f} deg"))
    return grid_figure(views, cols=2, width=8)


def stages_figure(aligner: Aligner, profiled: list[Sample]):
    """The largest-yaw profiled view: the start, every stage and the truth (paper Fig. 6)."""
    s = max(profiled, key=lambda v: abs(v.camera.yaw))
    a = aligner.align(s.image, landmark_box(s.landmarks68))
    names = ["start", *(f"stage {k + 1}" for k in range(len(a.stages) - 1))]
    panels = [label_panel(draw_landmarks(s.image, st, a.visible), name) for st, name in zip(a.stages, names)]
    panels.append(label_panel(draw_landmarks(s.image, s.landmarks68, color=TRUTH_RGB), "truth"))
    return grid_figure([crop_around(p, landmark_box(s.landmarks68), 240) for p in panels], cols=3, width=10,
                       title=f"true yaw {np.degrees(s.camera.yaw):.0f}°, estimated {a.pose.yaw_deg:.0f}°")


def ced_figure(real: Sequence[MethodResult], protocol: str = "300w"):
    """Cumulative inter-ocular error of every method on the real images."""
    fig, ax = new_figure(7, 4)
    for r in real:
        if r.result.protocol != protocol:
            continue
        x, share = r.result.curve("interocular")
        ax.plot(100 * x, 100 * share, label=method_label(r.method, r.box), lw=1.5 if r.method in ("dff", "sdm") else 1.0)
    ax.axvline(8.0, color="gray", ls="--", lw=0.8)
    ax.set(xlabel="inter-ocular NME (%)", ylabel="faces (%)")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.02, 0.5), frameon=False)
    ax.grid(alpha=0.3)
    return fig


def _shown(faces: list[Face], profiled: list[Sample], n: int) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    large = sorted(profiled, key=lambda v: -abs(v.camera.yaw))[:n]
    return [(f.read(), f.landmark_box, f.points) for f in faces[:n]] + \
        [(v.image, landmark_box(v.landmarks68), v.landmarks68) for v in large]


def comparison_figure(aligner: Aligner, faces: list[Face], profiled: list[Sample], n: int = 2):
    """Held-out faces (``n`` real, in the 2D convention of their annotation; ``n`` profiled to large yaw, in
    the 3D convention of theirs): Ours (DFF), dlib, the truth (paper Fig. 11 style), four to a row."""
    dlib = landmark_predictor("dlib")
    shown = _shown(faces, profiled, n)
    rows = [[], [], []]
    for k, (img, box, truth) in enumerate(shown):
        al = aligner.align(img, box)
        ours = draw_landmarks(img, al.landmarks_2d) if k < n else draw_landmarks(img, al.landmarks, al.visible)
        rows[0].append(crop_around(ours, box))
        rows[1].append(crop_around(draw_landmarks(img, dlib(img, box)), box))
        rows[2].append(crop_around(draw_landmarks(img, truth, color=TRUTH_RGB), box))
    return grid_figure(rows[0] + rows[1] + rows[2], cols=len(rows[0]), width=10)


def reconstruction_figure(model: FaceModel, renderer: Renderer, aligner: Aligner, faces: list[Face],
                          profiled: list[Sample]):
    """The 3D face of two real and two profiled views: landmarks and pose axes, a novel view, depth, PNCC."""
    shown = _shown(faces, profiled, 2)
    panels = []
    for img, box, _ in shown:
        al = aligner.align(img, box)
        mesh = face_mesh(al, img, model, renderer)
        turn = np.radians(40.0) * (1 if al.camera.yaw <= 0 else -1)
        novel = render_face(renderer, model, 200, al.p_id, al.p_exp, pitch=al.camera.pitch, yaw=al.camera.yaw + turn,
                            roll=al.camera.roll, colors=mesh.colors)
        axes = draw_pose_axes(draw_landmarks(img, al.landmarks, al.visible), al.camera,
                              al.shape(model)[model.landmarks68[30]])
        hw = img.shape[:2]
        panels += [crop_around(axes, box), novel, crop_around(depth_image(depth_map(al, model, renderer, hw)), box),
                   crop_around(pncc_map(al, model, renderer, hw), box)]
    return grid_figure(panels, cols=4, width=10)
