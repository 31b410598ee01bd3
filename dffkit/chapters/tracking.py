"""Chapter 7, tracking: ground-truth sequences made from a held-out image, the tracker against per-frame
alignment on them, the One-Euro filter's jitter against its lag, and figures of both."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from dffkit.alignment.cascade import Aligner
from dffkit.boxes import crop_around, landmark_box
from dffkit.data.photos import default_images, list_images, read_landmarks
from dffkit.evaluation.report.labels import TRACKING_LABELS
from dffkit.evaluation.report.table import Table, table
from dffkit.evaluation.results import TrackingResults
from dffkit.evaluation.tracking import compare_methods, crossing_ids, filter_sweep, held_out_sequences
from dffkit.evaluation.verdict import verdict_roc
from dffkit.face.model import FaceModel
from dffkit.face.render import Renderer
from dffkit.images import read_image
from dffkit.tracking.filters import Smoothing
from dffkit.tracking.run import draw_frame
from dffkit.tracking.sequences import SequenceTruth
from dffkit.tracking.tracker import Tracker
from dffkit.tracking.video import VideoReader
from dffkit.viz import TRUTH_RGB, draw_landmarks, grid_figure, label_panel, new_figure

__all__ = ["sequences", "measure", "side_by_side", "strip_figure", "nme_figure", "jitter_lag_figure", "verdict_figure",
           "real_footage_table", "real_footage_figure", "reid_table", "faces_found_table"]


def sequences(model: FaceModel, images: str | Path | None, index: int, n_still: int, n_move: int, height: int,
              seed: int = 0, folder: str | Path = "sequences") -> tuple[str, dict[str, tuple[Path, SequenceTruth]]]:
    """The two ground-truth sequences of held-out test image ``index`` (4:3 frames ``height`` pixels high):
    (the image's file name, {sequence: (video, truth)})."""
    face = list_images(images or default_images(), split="test", require_landmarks=True)[index]
    with Renderer() as renderer:
        seqs = held_out_sequences(face, model, renderer, folder, n_still=n_still, n_move=n_move,
                                  size=(height, height * 4 // 3), seed=seed)
    return face.image.name, seqs


def measure(seqs: dict[str, tuple[Path, SequenceTruth]], aligner: Aligner, smoothing: Smoothing | Mapping,
            sweep_settings: Sequence[Smoothing | Mapping], images: str | Path | None = None,
            n_verdict: int = 30) -> TrackingResults:
    """Every method on every sequence, the filter sweep on the similarity drift (real pixels), the face
    verdict's ROC on ``n_verdict`` held-out images, and two held-out faces crossing; filter settings as
    :class:`Smoothing` or as their dicts (a notebook's parameters)."""
    smoothing = Smoothing.of(smoothing)
    rows = tuple(r for name, (video, truth) in seqs.items() for r in compare_methods(name, video, truth, aligner,
                                                                                     smoothing))
    video, truth = seqs["similarity-drift"]
    held_out = list_images(images or default_images(), split="test", require_landmarks=True)
    faces = [(read_image(f.image), read_landmarks(f.landmarks)) for f in held_out[:n_verdict]]
    roc = verdict_roc(aligner, faces) if aligner.reg.verdict else None
    return TrackingResults(rows, filter_sweep(video, truth, [Smoothing.of(s) for s in sweep_settings], aligner=aligner),
                           roc, crossing_ids(aligner, *side_by_side(faces[2], faces[3])))


def side_by_side(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Two (image, landmarks) faces as one image, the second to the right of the first at the same height:
    (the image, (2, 4) boxes around each face, a little more than its landmarks)."""
    import cv2

    h = min(a[0].shape[0], b[0].shape[0])
    parts, boxes, x = [], [], 0.0
    for image, lm in (a, b):
        k = h / image.shape[0]
        parts.append(cv2.resize(image, (round(image.shape[1] * k), h), interpolation=cv2.INTER_AREA))
        box = landmark_box(lm * k)
        c, half = (box[:2] + box[2:]) / 2, (box[2:] - box[:2]).max() * 0.7
        boxes.append([c[0] - half + x, c[1] - half * 1.1, c[0] + half + x, c[1] + half])
        x += parts[-1].shape[1]
    return np.concatenate(parts, axis=1), np.array(boxes)


def verdict_figure(results: TrackingResults):
    """The verdict's ROC on held-out faces, its two thresholds marked (keeping a tracked face, starting one)."""
    fig, ax = new_figure(4.5, 3.5)
    v = results.verdict
    ax.plot(v.fpr_curve, v.tpr_curve, lw=1.5)
    for k, (use, thr, tpr, fpr) in enumerate(v.operating_points()):
        ax.scatter([fpr], [tpr], color="k", zorder=3)
        ax.annotate(f"{use.split()[0]}: threshold {thr:.2f}", (fpr, tpr), textcoords="offset points",
                    xytext=(8, -14 - 16 * k), fontsize=8)  # each label below the one before
    ax.set(xlabel="non-faces called faces", ylabel="faces called faces", xlim=(-0.02, 1), ylim=(0, 1.02),
           title=f"AUC {v.auc:.3f}")
    ax.grid(alpha=0.3)
    return fig


def strip_figure(seqs: dict[str, tuple[Path, SequenceTruth]], aligner: Aligner, smoothing: Smoothing | Mapping,
                 n_still: int, n: int = 4):
    """``n`` frames of the yaw sweep's moving stretch at growing |yaw|, tracked with the filter (top: landmarks
    and track id), and the truth of the same frames (bottom), each cropped around the face so that it reads."""
    video, truth = seqs["yaw-sweep"]
    frames = list(VideoReader(video))
    tracked = list(Tracker(aligner=aligner, filter=Smoothing.of(smoothing), fps=truth.fps).run(VideoReader(video)))
    moving = np.arange(n_still, len(frames))
    order = moving[np.argsort(np.abs(truth.yaw_deg[moving]))]
    picks = sorted(order[np.linspace(0, len(order) - 1, n).astype(int)])
    boxes = [landmark_box(truth.landmarks[k]) for k in picks]
    top = [label_panel(crop_around(draw_frame(frames[k][2], tracked[k]), b, 240), f"yaw {truth.yaw_deg[k]:.0f}°")
           for k, b in zip(picks, boxes)]
    bottom = [crop_around(draw_landmarks(frames[k][2], truth.landmarks[k], color=TRUTH_RGB), b, 240)
              for k, b in zip(picks, boxes)]
    return grid_figure(top + bottom, cols=len(picks), width=10)


def nme_figure(results: TrackingResults, seqs: dict[str, tuple[Path, SequenceTruth]], sequence: str = "yaw-sweep"):
    """NME per frame of every method on a sequence, with the true |yaw| (right axis)."""
    _, truth = seqs[sequence]
    fig, ax = new_figure(10, 3.5)
    for r in results.methods:
        if r.sequence == sequence:
            ax.plot(100 * r.score.nme, label=TRACKING_LABELS.get(r.method, r.method), lw=1)
    ax.set(xlabel="frame", ylabel="NME (%)")
    ax.legend(fontsize=7, loc="upper left")
    ax2 = ax.twinx()
    ax2.plot(np.abs(truth.yaw_deg), color="gray", lw=0.8, ls="--")
    ax2.set_ylabel("|yaw| (°)")
    return fig


def jitter_lag_figure(results: TrackingResults):
    """Jitter on the still stretch against lag on the moving one, per filter setting."""
    fig, ax = new_figure(5, 3.5)
    for r in results.filter_sweep:
        label = "none" if r.smoothing is None else r.smoothing.label()
        ax.scatter(r.lag_frames, 100 * r.jitter_still)
        ax.annotate(label, (r.lag_frames, 100 * r.jitter_still), fontsize=7)
    ax.set(xlabel="lag (frames)", ylabel="jitter, still (% of box)")
    ax.grid(alpha=0.3)
    return fig


def real_footage_table(bench: Mapping | None = None) -> Table:
    """The recorded run of ``benchmarks/track_real.py`` on real clips (not rerun at build time: the clips are
    a third party's, fetched for a local benchmark only), one row per shot, with its machine."""
    from dffkit.chapters.glance import load_benchmarks
    from dffkit.evaluation.report.labels import pct

    run = (bench if bench is not None else load_benchmarks()).get("track_real")
    if not run:
        return table([{"real footage": "benchmarks/track_real.py has not recorded a run"}])
    rows = []
    for name, clip in run["clips"].items():
        if not isinstance(clip, dict):
            continue
        for shot in clip["shots"]:
            a, b = shot["frames"]
            rows.append({"clip": name, "frames": f"{a}-{b}", "shot": shot["what"],
                         "frames with a face": f"{shot['frames with a face']} / {b - a + 1}",
                         "track ids": shot["track ids"], "people": "not counted" if shot["people"] is None
                         else shot["people"]})
        rows.append({"clip": name, "frames": f"all {clip['frames']}", "shot": "whole clip",
                     "frames with a face": f"{pct(clip['coverage']):.1f} % of those where a person sees one",
                     "track ids": f"{clip['track ids']} (ids in two shots: {clip['track ids in more than one shot']})",
                     "people": f"{clip['people']}; {clip['fps (decoding included)']:.1f} frames/s"
                               + (f" quiet, {clip['fps (decoding included), loaded']:.1f} beside a second tracking "
                                  "process" if "fps (decoding included), loaded" in clip else "")
                               + (f" ({clip['whole-frame detections']} frames searched for new faces, "
                                  f"{clip['candidate alignments']} candidates aligned)"
                                  if "candidate alignments" in clip else "")})
    m = run["machine"]
    return table(rows, notes=[f"Recorded by benchmarks/track_real.py (detector every {run['detect_every']} frames) on "
                              f"{m['cpu']}, {m['cores']} cores, dffkit {m['dffkit']}. People: those whose faces a "
                              "person sees in the shot, counted by eye (benchmarks/data/real_clips.json)."])


def reid_table(bench: Mapping | None = None) -> Table:
    """The recorded run of ``benchmarks/track_reid.py`` (held-out people leaving a shot and coming back, or
    another person coming in), with and without recognition, with its machine."""
    from dffkit.chapters.glance import load_benchmarks
    from dffkit.evaluation.report.labels import pct

    run = (bench if bench is not None else load_benchmarks()).get("track_reid")
    if not run:
        return table([{"recognition": "benchmarks/track_reid.py has not recorded a run"}])
    rows = []
    for key, label in (("reid_s 10", "recognised (reid_s 10 s, the default)"), ("reid_s 0", "not recognised (reid_s 0)")):
        row = {"tracker": label}
        for case, what in (("same person", "the same person back: id back"),
                           ("another person", "another person: the leaver's id (a false merge)")):
            c = run[key][case]
            took, tracked = c["second took the first's id"], c["both faces tracked"]
            row[what] = f"{took} / {tracked} ({pct(c['share']):.1f} %)"
        rows.append(row)
    m = run["machine"]
    return table(rows, notes=[f"Recorded by benchmarks/track_reid.py: {run['people']} held-out test photos, each "
                              f"person away for {run['gap (frames at 25/s)']} frames at 25 frames/s (longer than "
                              f"the 1 s recall at the same place); on {m['cpu']}, {m['cores']} cores, dffkit "
                              f"{m['dffkit']}."])


def real_footage_figure(strip: str | Path | None = None):
    """The recorded overlay strip of the real clip whose licence allows showing frames (8 frames, landmarks
    and track ids), or None when the benchmark recorded none."""
    from dffkit.chapters.glance import BENCHMARKS

    path = Path(strip) if strip is not None else BENCHMARKS / "short_hamilton_clip_strip.jpg"
    if not path.is_file():
        return None
    image = read_image(path)
    fig, ax = new_figure(14.0, 14.0 * image.shape[0] / image.shape[1])
    ax.imshow(image)
    ax.set_axis_off()
    return fig


def faces_found_table(bench: Mapping | None = None) -> Table:
    """The recorded run of ``benchmarks/eval_faces_found.py`` (not rerun at build time: the group photos are not
    shipped): per hand-marked group photo, the faces the detector alone reports and those the verdict keeps,
    precision and recall over all of them, and the held-out 300-W test photos, with its machine."""
    from dffkit.chapters.glance import load_benchmarks
    from dffkit.evaluation.report.labels import pct

    run = (bench if bench is not None else load_benchmarks()).get("eval_faces_found")
    if not run:
        return table([{"faces found": "benchmarks/eval_faces_found.py has not recorded a run"}])
    modes = {"detector": "detector alone", "verdict": "with the verdict (dffkit's default)"}

    def found(row: Mapping) -> str:
        return f"{row['true_positives']} found, {row['false_positives']} false, {row['missed']} missed"

    per_photo = {m: {r["photo"]: r for r in run[m]["per photo"]} for m in modes}
    rows = []
    for name, photo in per_photo["verdict"].items():
        rows.append({"photos": name, "faces marked": photo["faces"],
                     **{label: found(per_photo[m][name]) for m, label in modes.items()}})
    rows.append({"photos": "all group photos", "faces marked": run["verdict"]["group photos"]["faces"],
                 **{label: f"precision {pct(run[m]['group photos']['precision']):.1f} %, "
                           f"recall {pct(run[m]['group photos']['recall']):.1f} %" for m, label in modes.items()}})
    rows.append({"photos": "300-W test (held-out)", "faces marked": run["verdict"]["300-W test photos"],
                 **{label: f"{pct(run[m]['300-W test: annotated face found']):.1f} % of the annotated faces; "
                           f"{run[m]['300-W test: other faces reported']} others" for m, label in modes.items()}})
    key = "profiled views: found / frames per |yaw| bin"
    for span in run["verdict"].get(key, {}):
        rows.append({"photos": f"held-out photos turned to |yaw| {span}°",
                     "faces marked": run["verdict"][key][span][1],
                     **{label: f"{run[m][key][span][0]} found" if span in run[m].get(key, {}) else "not measured"
                        for m, label in modes.items()}})
    m = run["machine"]
    return table(rows, notes=[f"Recorded by benchmarks/eval_faces_found.py on {m['cpu']}, {m['cores']} cores, dffkit "
                              f"{m['dffkit']}. Faces marked by hand (benchmarks/data/group_faces.json); a 300-W crop "
                              "may hold a neighbour's face, so other faces there are counted, not judged. Turned "
                              "photos: every 5th frame of the held-out yaw sweeps of benchmarks/track_heldout.py."])
