"""The ``dffkit`` command line: the parser here, the commands in :mod:`dffkit.cli.commands`.

Every usage error prints one line ``dffkit CMD: error: ...`` on stderr and exits with status 2;
nothing half-written is left behind. Only the standard library is imported until a command runs, so
``dffkit --help`` and argument errors answer at once.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Callable, Sequence

__all__ = ["main", "build_parser"]


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
        if not math.isfinite(v) or not lo <= v <= hi:
            raise argparse.ArgumentTypeError(f"{text} is outside [{lo:g}, {hi:g}]")
        return v

    parse.__name__ = kind.__name__
    return parse


def _box(text: str) -> tuple[float, float, float, float]:
    try:
        v = tuple(float(x) for x in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not x0,y0,x1,y1") from None
    if len(v) != 4 or not all(map(math.isfinite, v)) or v[2] <= v[0] or v[3] <= v[1]:
        raise argparse.ArgumentTypeError(f"{text!r} is not a box x0,y0,x1,y1 with x1 > x0 and y1 > y0")
    return v  # type: ignore[return-value]


def _descriptor_names() -> tuple[str, ...]:
    from dffkit.descriptors import DESCRIPTORS

    return DESCRIPTORS.names()


def _detector_names() -> tuple[str, ...]:
    from dffkit.detect import DETECTORS

    return DETECTORS.names()


def _protocol_names() -> tuple[str, ...]:
    from dffkit.evaluation import PROTOCOLS

    return PROTOCOLS.names()


def _method_names() -> tuple[str, ...]:
    from dffkit.evaluation import METHODS

    return METHODS.names()


def _methods(text: str) -> list[str]:
    names = [m.strip() for m in text.split(",") if m.strip()]
    if not names:
        raise argparse.ArgumentTypeError("no method named; pass one or more of " + ", ".join(_method_names()))
    bad = [m for m in names if m not in _method_names()]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown method {bad[0]!r}; choose from {', '.join(_method_names())}")
    return names


def _command(name: str) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        from dffkit.cli import commands

        return getattr(commands, name)(args)

    return run


SEED = _ranged(0, 2**32 - 1, int)


def _kinds() -> tuple[str, ...]:
    """Regressor kinds: every registered descriptor (its 3D cascade) and 'sdm' (the 2D mode on DFF)."""
    from dffkit.descriptors import DESCRIPTORS

    return (*DESCRIPTORS.names(), "sdm")


def _images_option(p: argparse.ArgumentParser, **kwargs) -> None:
    """``--images DIR`` (and ``--photos``, its earlier name, hidden)."""
    p.add_argument("--images", **kwargs)
    p.add_argument("--photos", dest="images", help=argparse.SUPPRESS)


def _landmark_box_option(p: argparse.ArgumentParser, help_text: str, suffix: str = "") -> None:
    """``--landmark-box[-a|-b] x0,y0,x1,y1`` (and ``--box[-a|-b]``, hidden): the box of a face's 68 landmarks."""
    dest = "landmark_box" + suffix.replace("-", "_")
    p.add_argument(f"--landmark-box{suffix}", dest=dest, type=_box, metavar="X0,Y0,X1,Y1", help=help_text)
    p.add_argument(f"--box{suffix}", dest=dest, type=_box, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    """The ``dffkit`` argument parser with every command."""
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
    r.add_argument("--seed", type=SEED, default=0, help="random seed")
    r.add_argument("--landmarks", action="store_true", help="draw the 68 landmarks (green visible, red hidden)")
    r.add_argument("--json", action="store_true", help="print the camera and parameters as JSON")
    r.add_argument("-o", "--output", required=True, help="output image, .png or .jpg")
    r.set_defaults(func=_command("render"))

    g = sub.add_parser("segment", help="build (or load) the random CVT surface segmentations",
                       description="Build the random CVT segmentations of the face surface into the cache "
                                   "($DFFKIT_CACHE or ~/.cache/dffkit) and print their uniformity.")
    g.add_argument("--n-segmentations", type=_ranged(1, 1000, int), default=100)
    g.add_argument("--n-patches", type=_ranged(2, 5000, int), default=500)
    g.add_argument("--seed", type=SEED, default=0)
    g.add_argument("--json", action="store_true", help="print the summary as JSON")
    g.set_defaults(func=_command("segment"))

    s = sub.add_parser("synth", help="synthesise training images from face photos",
                       description="Fit the face model to photos and re-render them with new poses, expressions, "
                                   "lighting and backgrounds (paper Sec. III-A). Resumable and verified: rerun the "
                                   "same command to finish an interrupted run or repair damaged shards.")
    _images_option(s, help="folder of face images with .pts/.mat landmarks (default: the vendored sample)")
    s.add_argument("--out", required=True, help="dataset folder")
    s.add_argument("--n", type=_ranged(1, 10_000_000, int), default=1000, help="number of samples")
    s.add_argument("--size", type=_ranged(16, 1024, int), default=224, help="image side in pixels")
    s.add_argument("--seed", type=SEED, default=0)
    s.add_argument("--workers", type=_ranged(0, 256, int), default=2, help="processes (0: this one)")
    s.add_argument("--split", choices=("train", "val", "test", "all"), default="train",
                   help="which images to use (fixed split by photograph; default train)")
    s.add_argument("--shard-size", type=_ranged(1, 100_000, int), default=64, help="samples per shard file")
    s.add_argument("--mode", choices=("render", "profile"), default="render",
                   help="render: the fitted face re-rendered on a new background; profile: the whole photo lifted "
                        "to 3D and turned to a new pose (300W-LP style)")
    s.add_argument("--quiet", action="store_true", help="no progress bars")
    s.set_defaults(func=_command("synth"))

    t = sub.add_parser("train", help="train the DFF network on a synthetic dataset",
                       description="Train the U-Net descriptor with the multi-segmentation angular-softmax loss. "
                                   "Under torchrun it trains data-parallel (DDP).")
    t.add_argument("--config", default="cpu", help="named config: paper, cpu or tiny (default cpu)")
    t.add_argument("--data", required=True, nargs="+", help="dataset folder(s) from 'dffkit synth' (several are read "
                   "as one)")
    t.add_argument("--out", required=True, help="output folder: checkpoint.pt, log.csv, weights.pt")
    t.add_argument("--val", nargs="+", help="held-out dataset folder(s): their patch accuracy is recorded in weights.pt")
    t.add_argument("--steps", type=_ranged(1, 10_000_000, int), help="steps (default: the config's)")
    t.add_argument("--checkpoint-every", type=_ranged(1, 10_000_000, int), default=200,
                   help="steps between checkpoints (default 200)")
    t.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    t.add_argument("--init", help="weights.pt to start the network from (fine-tuning); default: from scratch")
    t.add_argument("--seed", type=_ranged(0, 2**31 - 1, int), default=0)
    t.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    t.add_argument("--quiet", action="store_true")
    t.set_defaults(func=_command("train"))

    ta = sub.add_parser("train-align", help="learn the alignment regressors (DFF, SIFT or the 2D SDM mode)",
                        description="Learn the cascade's descent directions stage by stage (paper eqs. 9, 10) and "
                                    "write align_KIND.npz and its model card into --out. dff and sift learn on a "
                                    "dataset from 'dffkit synth' (--data); sdm learns on the train split of an "
                                    "annotated photo folder (--photos), which also calibrates the detector boxes.")
    ta.add_argument("--kind", choices=_kinds(), default="dff",
                    help="a descriptor's 3D cascade, or sdm for the 2D mode on DFF (default dff)")
    ta.add_argument("--data", help="dataset folder from 'dffkit synth' (dff, sift)")
    _images_option(ta, required=True, help="annotated image folder (.pts): its train split")
    ta.add_argument("--n", type=_ranged(1, 10_000_000, int), default=8000, help="samples or photos used")
    ta.add_argument("--n-init", type=_ranged(1, 100, int), default=2, help="starts per sample")
    ta.add_argument("--box-jitter", type=_ranged(0, 0.5), default=0.05, help="jitter of the true boxes, share of size")
    ta.add_argument("--detector-starts", action="store_true",
                    help="the first start of each sample from the default detector's box (as at test time)")
    ta.add_argument("--weights", help="DFF weights.pt (default: the shipped ones)")
    ta.add_argument("--out", required=True, help="output folder for the .npz and the card")
    ta.add_argument("--quiet", action="store_true")
    ta.set_defaults(func=_command("train_align"))

    f = sub.add_parser("features", help="compute the DFF descriptor map of a face image",
                       description="Crop the face (from --landmark-box or the face detector), run the DFF network and save "
                                   "the (H, W, 32) descriptor map of the crop as .npy.")
    f.add_argument("image")
    f.add_argument("-o", "--output", required=True, help="output .npy")
    _landmark_box_option(f, "the face's landmark box (around its 68 points, brows to chin), pixels (default: the "
                            "largest face the detector finds)")
    f.add_argument("--weights", help="weights.pt (default: the shipped CPU weights)")
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=_command("features"))

    m = sub.add_parser("match", help="match two face images with DFF or SIFT",
                       description="Match the face of image A into image B (paper Sec. IV-A). SIFT: Lowe's ratio "
                                   "test; DFF: nearest descriptor angle, valid under --max-angle (30° sparse, 12° "
                                   "dense). Faces come from --landmark-box-a/-b or the face detector.")
    m.add_argument("image_a")
    m.add_argument("image_b")
    m.add_argument("--method", choices=_descriptor_names(), default="dff",
                   help="the descriptor; it matches by its own rule: SIFT by Lowe's ratio test, DFF by the nearest "
                        "angle (default dff)")
    m.add_argument("--dense", action="store_true", help="DFF: match every face pixel (default: SIFT keypoints)")
    m.add_argument("--stride", type=_ranged(1, 64, int), default=2, help="dense source pixel step (at least one descriptor cell)")
    m.add_argument("--max-angle", type=_ranged(0.1, 180), help="DFF validity angle, degrees")
    m.add_argument("--ratio", type=_ranged(0.01, 1.0), default=1 / 1.3, help="SIFT ratio test (default 1/1.3)")
    _landmark_box_option(m, "landmark box of A's face, pixels", "-a")
    _landmark_box_option(m, "landmark box of B's face, pixels", "-b")
    m.add_argument("--weights", help="DFF weights.pt (default: the shipped CPU weights)")
    m.add_argument("--height", type=_ranged(32, 4096, int), default=400, help="height of the drawing, pixels")
    m.add_argument("-o", "--output", help="side-by-side drawing of the valid matches, .png or .jpg")
    m.add_argument("--json", action="store_true", help="print the matches as JSON [xa, ya, xb, yb, score]")
    m.set_defaults(func=_command("match"))

    a = sub.add_parser("align", help="large-pose 68-point alignment of every face in images or folders",
                       description="Align faces with the DFF cascaded regression (paper Sec. III-C): 68 landmarks, "
                                   "their visibility and the head pose. Without --landmark-box, the face detector finds every "
                                   "face. One image prints its faces; several images or folders (or --csv / "
                                   "--jsonl) write one row per face, with one model load per process.")
    a.add_argument("images", nargs="+", help="image files or folders of images")
    _landmark_box_option(a, "the face's landmark box (around its 68 points, brows to chin), pixels")
    a.add_argument("--detector", choices=_detector_names(), help="the face detector (default blazeface)")
    a.add_argument("--descriptor", choices=_kinds(),
                   help="dff (default), sift for 'Ours (SIFT)', sdm for the 2D SDM mode; with --regressors, the file "
                        "must be of this kind")
    a.add_argument("--regressors", help="regressor .npz (default: the shipped ones)")
    a.add_argument("-o", "--output", help="overlay image, .png or .jpg (green visible, red hidden landmarks; one image)")
    a.add_argument("--json", action="store_true", help='print {"faces": [{"box", "landmarks68", "visible", "pose"}]}')
    a.add_argument("--dense", action="store_true", help="with --json: every visible vertex's 2D point and depth too")
    a.add_argument("--mesh", help="the photo-coloured 3D face, .ply or .obj (face k > 0 in NAME_k.ply)")
    a.add_argument("--depth", help="the faces' depth map as an image, .png or .jpg (nearer is brighter)")
    a.add_argument("--pncc", help="the faces' normalised coordinate code (PNCC) image, .png or .jpg")
    a.add_argument("--pose-axes", help="the photo with each head's axes (x red, y green, z blue), .png or .jpg")
    a.add_argument("--csv", help="write one row per face to this CSV file (many images)")
    a.add_argument("--jsonl", help="write one JSON line per face to this file (many images)")
    a.add_argument("--workers", type=_ranged(1, 256, int), default=1, help="processes for many images (default 1)")
    a.add_argument("--resume", action="store_true", help="skip the files already in the --csv / --jsonl output")
    a.add_argument("--quiet", action="store_true", help="no progress bar")
    a.set_defaults(func=_command("align"))

    k = sub.add_parser("track", help="track faces through a video",
                       description="Track every face of a video (a file or a folder of frames): each frame, the "
                                   "detector looks around each tracked face and the cascade aligns it; a track is "
                                   "lost when the detector no longer sees a face there, and the whole frame is "
                                   "searched again. Landmarks are smoothed by a One-Euro filter (--no-filter: raw).")
    k.add_argument("video", help="a video file (MP4, AVI, MOV, MKV) or a folder of frames")
    k.add_argument("-o", "--output", help="overlay video, .mp4 (landmarks and track ids)")
    k.add_argument("--jsonl", help="one JSON line per frame and face (default: printed)")
    k.add_argument("--csv", help="one CSV row per frame and face")
    k.add_argument("--no-filter", action="store_true", help="no temporal filter")
    k.add_argument("--min-cutoff", type=_ranged(0.001, 100), default=1.0, help="One-Euro cut-off when still, Hz")
    k.add_argument("--beta", type=_ranged(0, 1000), default=5.0, help="One-Euro speed coefficient")
    k.add_argument("--detect-every", type=_ranged(0, 100000, int), default=0,
                   help="also search the whole frame every N frames (0: only when a track is lost)")
    k.add_argument("--fps", type=_ranged(0.1, 1000), default=25.0, help="frame rate of a folder of frames")
    k.add_argument("--quiet", action="store_true", help="no progress bar")
    k.set_defaults(func=_command("track"))

    e = sub.add_parser("eval", help="score alignment methods on a benchmark protocol",
                       description="Evaluate alignment under a protocol: aflw2000-3d (68 points, box NME, yaw bins), "
                                   "aflw (21 points, visible), 300w (inter-pupil and inter-ocular), 300w-inner.")
    e.add_argument("protocol", choices=_protocol_names())
    e.add_argument("--root", required=True, help="the dataset folder (annotations beside the images)")
    e.add_argument("--method", default="dff", type=_methods,
                   help=f"comma-separated, of: {', '.join(_method_names())} (default dff)")
    e.add_argument("--limit", type=_ranged(1, 10_000_000, int), help="evaluate the first N faces only")
    e.add_argument("--json", action="store_true")
    e.add_argument("--verbose", action="store_true", help="list every face that could not be evaluated")
    e.add_argument("--quiet", action="store_true")
    e.set_defaults(func=_command("eval"))
    return parser


_BOX_OPTIONS = ("--box", "--box-a", "--box-b", "--landmark-box", "--landmark-box-a", "--landmark-box-b")


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
    """Run ``dffkit`` with ``argv`` (default: the process's arguments); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(_join_negative_boxes(sys.argv[1:] if argv is None else argv))
    if args.command is None:
        parser.print_help()
        return 2
    from dffkit.errors import DffkitError

    try:
        return int(args.func(args))
    except DffkitError as exc:
        print(f"dffkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"dffkit {args.command}: interrupted", file=sys.stderr)
        return 130
