"""The bodies of the ``dffkit`` commands (:mod:`dffkit.cli` parses their arguments). Each returns the exit
status; a :class:`dffkit.errors.DffkitError` becomes one line on stderr and status 2."""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dffkit.cli.outputs import IMAGE_OUTPUT, all_or_nothing, check_outputs
from dffkit.cli.train_align import train_align  # noqa: F401 - a command, looked up by name
from dffkit.errors import DffkitError, NoFaceError

__all__ = ["render", "segment", "synth", "train", "distill", "train_align", "features", "match", "align", "track", "eval"]

def _write_output(out: Path, write: Callable[[], object]) -> None:
    """Run ``write`` (which writes ``out``) and turn an OS error into a one-line error."""
    try:
        write()
    except OSError as exc:
        raise DffkitError(f"{out}: cannot write there ({exc.strerror}); choose another output path") from None


def render(args: argparse.Namespace) -> int:
    from dffkit.face.model import load_default_model
    from dffkit.face.render import Renderer
    from dffkit.images import write_image
    from dffkit.viz import render_face

    out = check_outputs({"-o": (args.output, IMAGE_OUTPUT)})["-o"]
    rng = np.random.default_rng(args.seed)
    model = load_default_model()
    p_id = model.sample_identity(rng, scale=args.identity_scale) if args.identity == "random" else None
    p_exp = model.sample_expression(rng) if args.expression == "random" else None
    with Renderer() as renderer:
        image = render_face(renderer, model, args.size, p_id, p_exp, pitch=np.radians(args.pitch),
                            yaw=np.radians(args.yaw), roll=np.radians(args.roll), landmarks=args.landmarks,
                            fill=args.fill)
    write_image(out, image)
    if args.json:
        print(json.dumps({"output": str(out), "yaw": args.yaw, "pitch": args.pitch, "roll": args.roll,
                          "p_id": None if p_id is None else p_id.tolist(),
                          "p_exp": None if p_exp is None else p_exp.tolist()}))
    else:
        print(f"wrote {out}")
    return 0


def segment(args: argparse.Namespace) -> int:
    from dffkit.dff.segment import cache_dir, load_segmentations, segmentation_stats
    from dffkit.face.model import load_default_model

    model = load_default_model()
    segs = load_segmentations(model, args.n_segmentations, args.n_patches, seed=args.seed)
    stats = segmentation_stats(model, segs)
    summary = {"n_segmentations": segs.n_segmentations, "n_patches": segs.n_patches, "seed": segs.seed,
               "area_cv_mean": float(stats["area_cv"].mean()), "area_cv_max": float(stats["area_cv"].max()),
               "all_connected": bool(stats["connected"].all()), "cache": str(cache_dir())}
    if args.json:
        print(json.dumps(summary))
    else:
        print(f"{segs.n_segmentations} segmentations x {segs.n_patches} patches (seed {segs.seed}); "
              f"area CV {summary['area_cv_mean']:.3f} mean, {summary['area_cv_max']:.3f} max; "
              f"every patch connected: {summary['all_connected']}; cached in {summary['cache']}")
    return 0


def synth(args: argparse.Namespace) -> int:
    from dffkit.data.dataset import SynthDataset
    from dffkit.data.generate import generate_dataset

    out = generate_dataset(args.out, images=args.images, n=args.n, size=args.size, seed=args.seed,
                           workers=args.workers, split=args.split, shard_size=args.shard_size, mode=args.mode,
                           progress=not args.quiet, cluster=args.cluster,
                           warn=(lambda line: print(f"dffkit synth: skipped {line}", file=sys.stderr)) if args.verbose
                           else None)
    ds = SynthDataset(out)
    print(f"{len(ds)} samples of {args.size}x{args.size} in {out} (complete: {ds.complete}, every shard verified)")
    return 0


def train(args: argparse.Namespace) -> int:
    from dffkit.dff.net import get_config
    from dffkit.dff.train import train as run_training

    cfg = get_config(args.config)
    weights = run_training(cfg, args.data, args.out, steps=args.steps, resume=args.resume, seed=args.seed,
                           device=args.device, val_data=args.val, ckpt_every=args.checkpoint_every,
                           init=args.init, progress=not args.quiet)
    print(f"wrote {weights}")
    return 0


def distill(args: argparse.Namespace) -> int:
    import dataclasses

    from dffkit.dff.distill import STUDENT_CONFIG, distill as run_distill

    cfg = dataclasses.replace(STUDENT_CONFIG, widths=tuple(args.widths))
    weights = run_distill(args.data, args.out, cfg, teacher=args.teacher, side=args.side, steps=args.steps,
                          resume=args.resume, seed=args.seed, device=args.device, val_data=args.val,
                          ckpt_every=args.checkpoint_every, progress=not args.quiet)
    print(f"wrote {weights}")
    return 0


def features(args: argparse.Namespace) -> int:
    from dffkit.atomic import atomic_write
    from dffkit.dff.features import features as dff_features
    from dffkit.dff.weights import load_weights
    from dffkit.images import read_image

    out = check_outputs({"-o": (args.output, (".npy",))})["-o"]
    image = read_image(args.image)
    net = load_weights(args.weights) if args.weights else None
    feats = dff_features(image, None if args.landmark_box is None else np.array(args.landmark_box), net=net)
    buf = io.BytesIO()
    np.save(buf, feats.descriptors)
    _write_output(out, lambda: atomic_write(out, buf.getvalue()))
    if args.json:
        print(json.dumps({"output": str(out), "shape": list(feats.descriptors.shape), "crop": feats.crop.tolist()}))
    else:
        print(f"wrote {out}: {feats.descriptors.shape} descriptors of the crop (x0, y0, side) = "
              f"{np.round(feats.crop, 1).tolist()}")
    return 0


def _face_region(image: np.ndarray, landmark_box, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(landmark box, mask) of the face: from --landmark-box (the box is the mask), or the largest detected face
    aligned (the hull of its 68 points, raised over the forehead)."""
    from dffkit.alignment.cascade import align
    from dffkit.boxes import check_box
    from dffkit.matching.match import landmark_mask

    if landmark_box is not None:
        box = check_box(np.array(landmark_box), image.shape, name=f"landmark box of {name}")
        mask = np.zeros(image.shape[:2], bool)
        x0, y0, x1, y1 = np.round(box).astype(int)
        mask[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
        return box, mask
    try:
        a = align(image)
    except NoFaceError:
        raise NoFaceError(f"{name}: no face found; pass its box with --landmark-box-a / --landmark-box-b") from None
    return a.landmark_box, landmark_mask(image.shape[:2], a.landmarks)


def match(args: argparse.Namespace) -> int:
    from dffkit.boxes import square_crop
    from dffkit.descriptors import make_descriptor
    from dffkit.dff.weights import load_weights
    from dffkit.images import read_image, write_image
    from dffkit.matching.match import match_faces
    from dffkit.viz import draw_matches

    out = check_outputs({"-o": (args.output, IMAGE_OUTPUT)})["-o"]
    images = [read_image(args.image_a), read_image(args.image_b)]
    (box_a, mask_a), (box_b, mask_b) = (_face_region(im, bx, str(nm)) for im, bx, nm in
                                        zip(images, (args.landmark_box_a, args.landmark_box_b),
                                            (args.image_a, args.image_b)))
    net = load_weights(args.weights) if args.weights else None
    d = make_descriptor(args.method, net=net)
    fa, fb = d.describe_face(images[0], square_crop(box_a)), d.describe_face(images[1], square_crop(box_b))
    m = match_faces(fa, fb, images[0], images[1], mask_a, mask_b, dense_stride=args.stride if args.dense else None,
                    max_angle=args.max_angle, ratio=args.ratio)
    if out is not None:
        v = m.valid
        drawing = draw_matches(images[0], images[1], m.source[v], m.target[v], height=args.height)
        _write_output(out, lambda: write_image(out, drawing))
    dense = args.dense and d.matching == "angle"
    doc = {"method": args.method + (" dense" if dense else ""), "source_points": len(m), "valid": m.n_valid,
           "landmark_box_a": box_a.tolist(), "landmark_box_b": box_b.tolist(),
           "matches": [[*map(float, s), *map(float, t), float(c)] for s, t, c, ok in
                       zip(m.source, m.target, m.score, m.valid) if ok]}
    if args.json:
        print(json.dumps(doc))
    else:
        print(f"{doc['method']}: {m.n_valid} valid matches from {len(m)} source points"
              + (f"; wrote {out}" if out is not None else ""))
    return 0


def align(args: argparse.Namespace) -> int:
    from dffkit.alignment.batch import aligner_for
    from dffkit.alignment.cascade import align_all
    from dffkit.alignment.records import alignment_record
    from dffkit.images import read_image, write_image
    from dffkit.viz import draw_landmarks

    if args.csv is not None and args.jsonl is not None:
        raise DffkitError("pass --csv or --jsonl, not both")
    paths = check_outputs({"-o": (args.output, IMAGE_OUTPUT), "--mesh": (args.mesh, (".ply", ".obj")),
                           "--depth": (args.depth, IMAGE_OUTPUT), "--pncc": (args.pncc, IMAGE_OUTPUT),
                           "--pose-axes": (args.pose_axes, IMAGE_OUTPUT), "--csv": (args.csv, (".csv",)),
                           "--jsonl": (args.jsonl, (".jsonl", ".json"))})
    many = len(args.images) > 1 or Path(args.images[0]).is_dir() or args.csv is not None or args.jsonl is not None
    if many:
        from dffkit.cli.batch import run_batch

        if any(paths[k] is not None for k in ("-o", "--mesh", "--depth", "--pncc", "--pose-axes")) or args.dense:
            raise DffkitError("-o, --mesh, --depth, --pncc, --pose-axes and --dense are for one image; with many "
                              "images use --csv or --jsonl")
        out = paths["--csv"] or paths["--jsonl"]
        return run_batch(args.images, out, "csv" if args.csv is not None else "jsonl", args.workers, args.resume,
                         args.regressors, args.descriptor, args.landmark_box, progress=not args.quiet,
                         detector=args.detector, convention=args.convention, cluster=args.cluster)
    out = paths["-o"]
    extra = {"mesh": paths["--mesh"], "depth": paths["--depth"], "pncc": paths["--pncc"],
             "pose_axes": paths["--pose-axes"]}
    image = read_image(args.images[0])
    aligner = aligner_for(args.regressors, args.descriptor)
    detector = None
    if args.detector is not None:
        from dffkit.detect import make_detector

        detector = make_detector(args.detector)
    faces = align_all(image, None if args.landmark_box is None else np.array([args.landmark_box]), aligner, detector)
    doc = {"faces": [alignment_record(a) for a in faces]}
    with all_or_nothing() as write:  # every output, or none
        if out is not None:
            overlay = image
            for a in faces:
                overlay = draw_landmarks(overlay, *_drawn(a, args.convention))
            write(out, lambda tmp: write_image(tmp, overlay))
        if any(v is not None for v in extra.values()) or args.dense:
            _write_3d(image, faces, aligner.model, extra, doc if args.dense else None, write)
    if args.json:
        print(json.dumps(doc))
    else:
        for k, (a, f) in enumerate(zip(faces, doc["faces"])):
            p = a.pose
            print(f"face {k}: landmark box {np.round(a.landmark_box, 1).tolist()}, yaw {p.yaw_deg:.1f}°, pitch "
                  f"{p.pitch_deg:.1f}°, roll {p.roll_deg:.1f}°, {sum(f['visible68'])}/68 landmarks visible")
        if out is not None:
            print(f"wrote {out}")
    return 0


def _drawn(a, convention: str) -> tuple[np.ndarray, np.ndarray]:
    """The points an overlay draws and their visibility: the 3D convention's by the z-buffer (green seen, red
    hidden); the 2D convention's are all on the visible face."""
    return (a.landmarks, a.visible) if convention == "3d" else (a.landmarks_2d, np.ones(68, bool))


def _write_3d(image: np.ndarray, faces: list, model, paths: dict, doc: dict | None, write) -> None:
    """The 3D outputs of ``align``: meshes, depth, PNCC and pose-axes images (through ``write``, of
    :func:`dffkit.cli.outputs.all_or_nothing`), dense points in ``doc``."""
    from dffkit.alignment.reconstruct import depth_map, face_mesh, pncc_map, write_mesh
    from dffkit.face.render import Renderer
    from dffkit.images import write_image
    from dffkit.viz import depth_image, draw_pose_axes

    h, w = image.shape[:2]
    depth = np.full((h, w), np.nan, np.float32)
    pncc = np.zeros((h, w, 3), np.uint8)
    axes = image
    with Renderer() as renderer:
        for k, a in enumerate(faces):
            if paths["mesh"] is not None or doc is not None:
                mesh = face_mesh(a, image, model, renderer)
                if paths["mesh"] is not None:
                    p = paths["mesh"]
                    target = p if k == 0 else p.with_name(f"{p.stem}_{k}{p.suffix}")
                    write(target, lambda tmp, m=mesh: write_mesh(tmp, m, h))
                if doc is not None:
                    vis = np.nonzero(mesh.visible)[0]
                    doc["faces"][k]["dense"] = {"vertex": vis.tolist(), "xyz": mesh.vertices[vis].round(2).tolist()}
            d = depth_map(a, model, renderer, (h, w))
            nearer = np.isfinite(d) & ~(np.nan_to_num(depth, nan=-np.inf) > d)
            depth[nearer] = d[nearer]
            pn = pncc_map(a, model, renderer, (h, w))
            pncc[nearer] = pn[nearer]
            axes = draw_pose_axes(axes, a.camera, model.mean[model.landmarks68[30]])
    for name, img in (("depth", depth_image(depth)), ("pncc", pncc), ("pose_axes", axes)):
        if paths[name] is not None:
            write(paths[name], lambda tmp, i=img: write_image(tmp, i))


def track(args: argparse.Namespace) -> int:
    from dffkit.tracking.filters import Smoothing
    from dffkit.tracking.run import frame_rows, track_video
    from dffkit.tracking.tracker import Tracker

    if args.csv is not None and args.jsonl is not None:
        raise DffkitError("pass --csv or --jsonl, not both")
    paths = check_outputs({"-o": (args.output, (".mp4",)), "--csv": (args.csv, (".csv",)),
                           "--jsonl": (args.jsonl, (".jsonl",))})
    overlay, rows = paths["-o"], paths["--csv"] or paths["--jsonl"]
    tracker = Tracker(detect_every=args.detect_every, reid_s=args.reid_s,
                      filter=None if args.no_filter else Smoothing(args.min_cutoff, args.beta))
    n = faces = 0
    ids = set()
    for frame in track_video(args.video, tracker, overlay=overlay, rows=rows, fps=args.fps, progress=not args.quiet):
        n += 1
        faces += len(frame.faces)
        ids.update(f.track_id for f in frame.faces)
        if rows is None:
            for r in frame_rows(frame):
                print(json.dumps(r))
    if rows is not None or overlay is not None:
        print(f"{n} frames, {faces} tracked faces in {len(ids)} tracks" +
              "".join(f"; wrote {p}" for p in (rows, overlay) if p is not None))
    return 0


def eval(args: argparse.Namespace) -> int:  # noqa: A001 - the command's name
    from dffkit.evaluation.harness import evaluate
    from dffkit.evaluation.methods import landmark_predictor
    from dffkit.evaluation.protocols import get_protocol
    from dffkit.evaluation.report.tables import protocol_table

    protocol = get_protocol(args.protocol)
    faces = protocol.load(args.root)[: args.limit]
    res = {}
    for method in args.method:
        r = evaluate(protocol, faces, landmark_predictor(method, convention=protocol.convention), progress=not args.quiet)
        res[method] = r
        if args.verbose:
            for line in r.failed:
                print(f"dffkit eval: skipped {line}", file=sys.stderr)
        if not r.scores:
            raise DffkitError(f"no face of {args.root} could be evaluated with {method} ({len(r.failed)} of "
                              f"{len(faces)} failed, first: {r.failed[0] if r.failed else '?'}); --verbose lists them")
        if r.failed and not args.verbose:
            print(f"dffkit eval: {method}: {len(r.failed)} of {len(faces)} faces skipped (--verbose lists them)",
                  file=sys.stderr)
    if args.json:
        print(json.dumps({m: {"bins": None if r.bins is None else r.bins.to_dict(),
                              "w300": None if r.w300 is None else r.w300.to_dict(), "failed": len(r.failed)}
                          for m, r in res.items()}))
        return 0
    print(f"{args.protocol}: NME (%) on {len(faces)} faces of {args.root}")
    print(protocol_table(res).to_markdown())
    if any(m.startswith("dlib") for m in res) and args.protocol.startswith("300w"):
        print("note: dlib's predictor was trained on 300-W; its numbers there are not a fair comparison")
    return 0
