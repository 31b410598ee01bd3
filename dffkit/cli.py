"""The ``dffkit`` command line.

Every usage error prints one line ``dffkit CMD: error: ...`` on stderr and exits with status 2;
nothing half-written is left behind.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence

import numpy as np

from dffkit.errors import DffkitError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (argparse prints the usage block first)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(2, f"{self.prog}: error: {message}; see '{self.prog} --help'\n")


def _ranged(lo: float, hi: float, kind: Callable[[str], float] = float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            v = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {kind.__name__}") from None
        if not np.isfinite(v) or not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{text} is outside [{lo:g}, {hi:g}]")
        return v

    parse.__name__ = kind.__name__
    return parse


IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def _output_path(text: str | None, suffixes: tuple[str, ...], what: str):
    """The checked output path (None when not asked for): a known suffix and an existing folder, checked
    before any work is done."""
    from pathlib import Path

    if text is None:
        return None
    out = Path(text)
    if out.suffix.lower() not in suffixes:
        raise DffkitError(f"{out}: the {what} must end in {' or '.join(suffixes)}")
    if not out.parent.is_dir():
        raise DffkitError(f"{out.parent}: output folder does not exist; create it first")
    return out


def _write_output(out, write: Callable[[], object]) -> None:
    """Run ``write`` (which writes ``out``) and turn an OS error into a one-line error."""
    try:
        write()
    except OSError as exc:
        raise DffkitError(f"{out}: cannot write there ({exc.strerror}); choose another output path") from None


def _cmd_render(args: argparse.Namespace) -> int:
    from dffkit.images import write_image
    from dffkit.model import load_default_model
    from dffkit.render import Renderer
    from dffkit.viz import render_face

    rng = np.random.default_rng(args.seed)
    model = load_default_model()
    p_id = model.sample_identity(rng, scale=args.identity_scale) if args.identity == "random" else None
    p_exp = model.sample_expression(rng) if args.expression == "random" else None
    with Renderer() as renderer:
        image = render_face(renderer, model, args.size, p_id, p_exp, pitch=np.radians(args.pitch),
                            yaw=np.radians(args.yaw), roll=np.radians(args.roll), landmarks=args.landmarks,
                            fill=args.fill)
    write_image(args.output, image)
    if args.json:
        print(json.dumps({"output": str(args.output), "yaw": args.yaw, "pitch": args.pitch, "roll": args.roll,
                          "p_id": None if p_id is None else p_id.tolist(),
                          "p_exp": None if p_exp is None else p_exp.tolist()}))
    else:
        print(f"wrote {args.output}")
    return 0


def _cmd_segment(args: argparse.Namespace) -> int:
    from dffkit.model import load_default_model
    from dffkit.segment import cache_dir, load_segmentations, segmentation_stats

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


def _cmd_synth(args: argparse.Namespace) -> int:
    from dffkit.data import SynthDataset
    from dffkit.synth import generate_dataset

    out = generate_dataset(args.out, photos=args.photos, n=args.n, size=args.size, seed=args.seed,
                           workers=args.workers, split=args.split, shard_size=args.shard_size,
                           progress=not args.quiet)
    ds = SynthDataset(out)
    print(f"{len(ds)} samples of {args.size}x{args.size} in {out} (complete: {ds.complete})")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    from dffkit.net import get_config
    from dffkit.train import train

    cfg = get_config(args.config)
    weights = train(cfg, args.data, args.out, steps=args.steps, resume=args.resume, seed=args.seed,
                    device=args.device, val_data=args.val, progress=not args.quiet)
    print(f"wrote {weights}")
    return 0


def _cmd_features(args: argparse.Namespace) -> int:
    import io

    from dffkit.atomic import atomic_write
    from dffkit.features import features, load_weights
    from dffkit.images import read_image

    out = _output_path(args.output, (".npy",), "output")
    image = read_image(args.image)
    net = load_weights(args.weights)
    feats = features(image, box=args.box, net=net)
    buf = io.BytesIO()
    np.save(buf, feats.descriptors)
    _write_output(out, lambda: atomic_write(out, buf.getvalue()))
    if args.json:
        print(json.dumps({"output": str(out), "shape": list(feats.descriptors.shape), "crop": feats.crop.tolist()}))
    else:
        print(f"wrote {out}: {feats.descriptors.shape} descriptors of the crop (x0, y0, side) = "
              f"{np.round(feats.crop, 1).tolist()}")
    return 0


def _face_region(image: np.ndarray, box: np.ndarray | None, detector, name: str) -> tuple[np.ndarray, np.ndarray]:
    """(box, mask) of the face: from --box (the box is the mask) or dlib's landmarks (their hull)."""
    from dffkit.images import check_box
    from dffkit.match import landmark_mask

    if box is not None:
        box = check_box(box, image.shape, name=f"box of {name}")
        mask = np.zeros(image.shape[:2], bool)
        x0, y0, x1, y1 = np.round(box).astype(int)
        mask[max(y0, 0):max(y1, 0), max(x0, 0):max(x1, 0)] = True
        return box, mask
    lm = detector.largest_face_landmarks(image, name=name)
    return np.r_[lm.min(0), lm.max(0)], landmark_mask(image.shape[:2], lm)


def _cmd_match(args: argparse.Namespace) -> int:
    from dffkit.images import read_image, write_image
    from dffkit.match import DFF_DENSE_ANGLE, DFF_SPARSE_ANGLE, match_dff, match_sift, mask_points, sift_keypoints
    from dffkit.viz import draw_matches

    out = _output_path(args.output, IMAGE_SUFFIXES, "drawing")
    images = [read_image(args.image_a), read_image(args.image_b)]
    detector = None
    if args.box_a is None or args.box_b is None:
        from dffkit.detect import DlibLandmarker

        detector = DlibLandmarker()
    (box_a, mask_a), (box_b, mask_b) = (_face_region(im, bx, detector, str(nm)) for im, bx, nm in
                                        zip(images, (args.box_a, args.box_b), (args.image_a, args.image_b)))
    if args.method == "sift":
        m = match_sift(images[0], images[1], mask_a, mask_b, ratio=args.ratio)
    else:
        from dffkit.features import features, load_weights

        net = load_weights(args.weights)
        fa, fb = features(images[0], box_a, net=net), features(images[1], box_b, net=net)
        if args.dense:
            pts = mask_points(mask_a, stride=args.stride) if args.stride > fa.cell else fa.grid_points(mask_a)
        else:
            pts = sift_keypoints(images[0], mask_a)[0]
        angle = args.max_angle if args.max_angle is not None else (DFF_DENSE_ANGLE if args.dense else DFF_SPARSE_ANGLE)
        m = match_dff(fa, fb, pts, mask_b, max_angle=angle)
    if out is not None:
        v = m.valid
        drawing = draw_matches(images[0], images[1], m.source[v], m.target[v], height=args.height)
        _write_output(out, lambda: write_image(out, drawing))
    doc = {"method": args.method + (" dense" if args.method == "dff" and args.dense else ""),
           "source_points": len(m), "valid": m.n_valid, "box_a": box_a.tolist(), "box_b": box_b.tolist(),
           "matches": [[*map(float, s), *map(float, t), float(c)] for s, t, c, ok in
                       zip(m.source, m.target, m.score, m.valid) if ok]}
    if args.json:
        print(json.dumps(doc))
    else:
        print(f"{doc['method']}: {m.n_valid} valid matches from {len(m)} source points"
              + (f"; wrote {out}" if out is not None else ""))
    return 0


def _cmd_align(args: argparse.Namespace) -> int:
    from dffkit.align import Aligner, Regressors, align_all
    from dffkit.images import read_image, write_image
    from dffkit.model import load_default_model
    from dffkit.viz import draw_landmarks

    out = _output_path(args.output, IMAGE_SUFFIXES, "overlay")
    image = read_image(args.image)
    aligner = Aligner(load_default_model(), Regressors.load(args.regressors, descriptor=args.descriptor))
    faces = align_all(image, None if args.box is None else args.box[None], aligner)
    doc = {"faces": [{"box": [float(v) for v in a.box], "landmarks68": a.landmarks.round(2).tolist(),
                      "visible": [bool(v) for v in a.visible], "pose": {k: round(v, 2) for k, v in a.pose.items()}}
                     for a in faces]}
    if out is not None:
        overlay = image
        for a in faces:
            overlay = draw_landmarks(overlay, a.landmarks, a.visible)
        _write_output(out, lambda: write_image(out, overlay))
    if args.json:
        print(json.dumps(doc))
    else:
        for k, f in enumerate(doc["faces"]):
            print(f"face {k}: box {np.round(f['box'], 1).tolist()}, yaw {f['pose']['yaw']:.1f}°, pitch "
                  f"{f['pose']['pitch']:.1f}°, roll {f['pose']['roll']:.1f}°, {sum(f['visible'])}/68 landmarks visible")
        if out is not None:
            print(f"wrote {out}")
    return 0


def _cmd_eval(args: argparse.Namespace) -> int:
    from dffkit.evaluate import landmark_predictor
    from dffkit.protocols import evaluate, load_300w, load_aflw, load_aflw2000

    loader = {"aflw2000-3d": load_aflw2000, "aflw": load_aflw, "300w": load_300w, "300w-inner": load_300w}
    faces = loader[args.protocol](args.root)[: args.limit]
    res = {}
    for method in args.method.split(","):
        r = evaluate(args.protocol, faces, landmark_predictor(method), progress=not args.quiet)
        res[method] = r
        for line in r["failed"]:
            print(f"dffkit eval: warning: {line}", file=sys.stderr)
    if args.json:
        print(json.dumps({m: {"table": r["table"], "failed": len(r["failed"])} for m, r in res.items()}))
        return 0
    cols = [k for k in next(iter(res.values()))["table"] if k != "faces"]
    print(f"{args.protocol}: NME (%) on {len(faces)} faces of {args.root}")
    print("| method | " + " | ".join(cols) + " |\n|---|" + "---|" * len(cols))
    for m, r in res.items():
        print(f"| {m} | " + " | ".join(f"{100 * r['table'][c]:.2f}" for c in cols) + " |")
    if "dlib" in res and args.protocol.startswith("300w"):
        print("note: dlib's predictor was trained on 300-W; its numbers there are not a fair comparison")
    return 0


def _box(text: str) -> np.ndarray:
    try:
        v = np.array([float(x) for x in text.split(",")])
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not x0,y0,x1,y1") from None
    if v.size != 4 or not np.isfinite(v).all() or v[2] <= v[0] or v[3] <= v[1]:
        raise argparse.ArgumentTypeError(f"{text!r} is not a box x0,y0,x1,y1 with x1 > x0 and y1 > y0")
    return v


def build_parser() -> argparse.ArgumentParser:
    from dffkit import __version__

    parser = _Parser(prog="dffkit", description="Deep Face Feature (DFF) for large-pose face alignment.")
    parser.add_argument("--version", action="version", version=f"dffkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    r = sub.add_parser("render", help="render the embedded face model at a pose",
                       description="Render the embedded ICT face model with a weak-perspective camera.")
    r.add_argument("--yaw", type=_ranged(-180, 180), default=0.0, help="degrees, + turns the face to the image right")
    r.add_argument("--pitch", type=_ranged(-90, 90), default=0.0, help="degrees, + tilts the face down")
    r.add_argument("--roll", type=_ranged(-180, 180), default=0.0, help="degrees, + turns the face counter-clockwise")
    r.add_argument("--size", type=_ranged(16, 4096, int), default=224, help="image side in pixels (default 224)")
    r.add_argument("--fill", type=_ranged(0.05, 1.0), default=0.75, help="share of the image the face spans")
    r.add_argument("--identity", choices=("mean", "random"), default="mean", help="mean face or a random identity")
    r.add_argument("--identity-scale", type=_ranged(0, 3), default=1.0, help="std of random identity weights")
    r.add_argument("--expression", choices=("neutral", "random"), default="neutral")
    r.add_argument("--seed", type=_ranged(0, 2**32 - 1, int), default=0, help="random seed")
    r.add_argument("--landmarks", action="store_true", help="draw the 68 landmarks (green visible, red hidden)")
    r.add_argument("--json", action="store_true", help="print the camera and parameters as JSON")
    r.add_argument("-o", "--output", required=True, help="output image, .png or .jpg")
    r.set_defaults(func=_cmd_render)

    g = sub.add_parser("segment", help="build (or load) the random CVT surface segmentations",
                       description="Build the random CVT segmentations of the face surface into the cache "
                                   "($DFFKIT_CACHE or ~/.cache/dffkit) and print their uniformity.")
    g.add_argument("--n-segmentations", type=_ranged(1, 1000, int), default=100)
    g.add_argument("--n-patches", type=_ranged(2, 5000, int), default=500)
    g.add_argument("--seed", type=_ranged(0, 2**32 - 1, int), default=0)
    g.add_argument("--json", action="store_true", help="print the summary as JSON")
    g.set_defaults(func=_cmd_segment)

    s = sub.add_parser("synth", help="synthesise training images from face photos",
                       description="Fit the face model to photos and re-render them with new poses, expressions, "
                                   "lighting and backgrounds (paper Sec. III-A). Resumable: rerun with the same "
                                   "arguments to finish an interrupted run.")
    s.add_argument("--photos", help="folder of face photos with .pts/.mat landmarks (default: the vendored sample)")
    s.add_argument("--out", required=True, help="dataset folder")
    s.add_argument("--n", type=_ranged(1, 10_000_000, int), default=1000, help="number of samples")
    s.add_argument("--size", type=_ranged(16, 1024, int), default=224, help="image side in pixels")
    s.add_argument("--seed", type=_ranged(0, 2**32 - 1, int), default=0)
    s.add_argument("--workers", type=_ranged(0, 256, int), default=2, help="processes (0: this one)")
    s.add_argument("--split", choices=("train", "val", "test", "all"), default="train",
                   help="which photos to use (fixed split by photo; default train)")
    s.add_argument("--shard-size", type=_ranged(1, 100_000, int), default=64, help="samples per shard file")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=_cmd_synth)

    t = sub.add_parser("train", help="train the DFF network on a synthetic dataset",
                       description="Train the U-Net descriptor with the multi-segmentation angular-softmax loss. "
                                   "Under torchrun it trains data-parallel (DDP).")
    t.add_argument("--config", default="cpu", help="named config: paper, cpu or tiny (default cpu)")
    t.add_argument("--data", required=True, help="dataset folder from 'dffkit synth'")
    t.add_argument("--out", required=True, help="output folder: checkpoint.pt, log.csv, weights.pt")
    t.add_argument("--val", help="held-out dataset folder: its patch accuracy is recorded in weights.pt")
    t.add_argument("--steps", type=_ranged(1, 10_000_000, int), help="steps (default: the config's)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    t.add_argument("--seed", type=_ranged(0, 2**31 - 1, int), default=0)
    t.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=_cmd_train)

    f = sub.add_parser("features", help="compute the DFF descriptor map of a face image",
                       description="Crop the face (from --box or dlib's detector), run the DFF network and save the "
                                   "(H, W, 32) descriptor map of the crop as .npy.")
    f.add_argument("image")
    f.add_argument("-o", "--output", required=True, help="output .npy")
    f.add_argument("--box", type=_box, help="face box x0,y0,x1,y1 in pixels (default: detect the largest face)")
    f.add_argument("--weights", help="weights.pt (default: the shipped CPU weights)")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=_cmd_features)

    m = sub.add_parser("match", help="match two face images with DFF or SIFT",
                       description="Match the face of image A into image B (paper Sec. IV-A). SIFT: Lowe's ratio "
                                   "test; DFF: nearest descriptor angle, valid under --max-angle (30° sparse, 12° "
                                   "dense). Faces come from --box-a/--box-b or dlib's detector.")
    m.add_argument("image_a")
    m.add_argument("image_b")
    m.add_argument("--method", choices=("dff", "sift"), default="dff")
    m.add_argument("--dense", action="store_true", help="DFF: match every face pixel (default: SIFT keypoints)")
    m.add_argument("--stride", type=_ranged(1, 64, int), default=2, help="dense source pixel step (at least one descriptor cell)")
    m.add_argument("--max-angle", type=_ranged(0.1, 180), help="DFF validity angle, degrees")
    m.add_argument("--ratio", type=_ranged(0.01, 1.0), default=1 / 1.3, help="SIFT ratio test (default 1/1.3)")
    m.add_argument("--box-a", type=_box, help="face box of A, x0,y0,x1,y1")
    m.add_argument("--box-b", type=_box, help="face box of B, x0,y0,x1,y1")
    m.add_argument("--weights", help="DFF weights.pt (default: the shipped CPU weights)")
    m.add_argument("--height", type=_ranged(32, 4096, int), default=400, help="height of the drawing, pixels")
    m.add_argument("-o", "--output", help="side-by-side drawing of the valid matches, .png or .jpg")
    m.add_argument("--json", action="store_true", help="print the matches as JSON [xa, ya, xb, yb, score]")
    m.set_defaults(func=_cmd_match)

    a = sub.add_parser("align", help="large-pose 68-point alignment of every face in an image",
                       description="Align faces with the DFF cascaded regression (paper Sec. III-C): 68 landmarks, "
                                   "their visibility and the head pose. Without --box, dlib's detector finds every face.")
    a.add_argument("image")
    a.add_argument("--box", type=_box, help="the face's landmark box x0,y0,x1,y1 (brows to chin), pixels")
    a.add_argument("--descriptor", choices=("dff", "sift", "sdm"),
                   help="dff (default), sift for 'Ours (SIFT)', sdm for the 2D SDM mode; with --regressors, the file "
                        "must be of this kind")
    a.add_argument("--regressors", help="regressor .npz (default: the shipped ones)")
    a.add_argument("-o", "--output", help="overlay image, .png or .jpg (green visible, red hidden landmarks)")
    a.add_argument("--json", action="store_true", help='print {"faces": [{"box", "landmarks68", "visible", "pose"}]}')
    a.set_defaults(func=_cmd_align)

    e = sub.add_parser("eval", help="score alignment methods on a benchmark protocol",
                       description="Evaluate alignment under a protocol: aflw2000-3d (68 points, box NME, yaw bins), "
                                   "aflw (21 points, visible), 300w (inter-pupil and inter-ocular), 300w-inner.")
    e.add_argument("protocol", choices=("aflw2000-3d", "aflw", "300w", "300w-inner"))
    e.add_argument("--root", required=True, help="the dataset folder (annotations beside the images)")
    e.add_argument("--method", default="dff", help="comma-separated: dff, sift, dlib, mean (default dff)")
    e.add_argument("--limit", type=_ranged(1, 10_000_000, int), help="evaluate the first N faces only")
    e.add_argument("--json", action="store_true")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(func=_cmd_eval)
    return parser


_BOX_OPTIONS = ("--box", "--box-a", "--box-b")


def _join_negative_boxes(argv: Sequence[str]) -> list[str]:
    """``--box -20,-5,100,150`` as ``--box=-20,-5,100,150``: argparse would read the value as an option."""
    out: list[str] = []
    for a in argv:
        if out and out[-1] in _BOX_OPTIONS and a[:1] == "-" and (a[1:2].isdigit() or a[1:2] == "."):
            out[-1] = f"{out[-1]}={a}"
        else:
            out.append(a)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(_join_negative_boxes(sys.argv[1:] if argv is None else argv))
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args))
    except DffkitError as exc:
        print(f"dffkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"dffkit {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
