"""The ``dffkit`` argument parser: one small function per command, choices read from the registries.

Only the standard library and the (light) registries are imported here, so ``dffkit --help`` and argument
errors answer at once.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

__all__ = ["build_parser", "BOX_OPTIONS"]

#: Options that take a box (a value may start with '-': see :func:`dffkit.cli.main`).
BOX_OPTIONS = ("--box", "--box-a", "--box-b", "--landmark-box", "--landmark-box-a", "--landmark-box-b")


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


def _names(kind: str) -> tuple[str, ...]:
    """The registered names of one extension point ('descriptor', 'detector', 'protocol', 'method')."""
    if kind == "descriptor":
        from dffkit.descriptors import DESCRIPTORS as registry
    elif kind == "detector":
        from dffkit.detect import DETECTORS as registry
    elif kind == "protocol":
        from dffkit.evaluation import PROTOCOLS as registry
    else:
        from dffkit.evaluation import METHODS as registry
    return registry.names()


def _kinds() -> tuple[str, ...]:
    """Regressor kinds: every registered descriptor (its 3D cascade) and 'sdm' (the 2D mode on DFF)."""
    return (*_names("descriptor"), "sdm")


def _methods(text: str) -> list[str]:
    names = [m.strip() for m in text.split(",") if m.strip()]
    known = _names("method")
    if not names:
        raise argparse.ArgumentTypeError("no method named; pass one or more of " + ", ".join(known))
    bad = [m for m in names if m not in known]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown method {bad[0]!r}; choose from {', '.join(known)}")
    return names


SEED = _ranged(0, 2**32 - 1, int)


def _command(sub, name: str, help_text: str, description: str) -> argparse.ArgumentParser:
    """A subcommand whose body is :func:`dffkit.cli.commands` ``name`` (with '-' as '_')."""
    def run(args: argparse.Namespace) -> int:
        from dffkit.cli import commands

        return getattr(commands, name.replace("-", "_"))(args)

    p = sub.add_parser(name, help=help_text, description=description)
    p.set_defaults(func=run)
    return p


def _flags(p: argparse.ArgumentParser, **flags: str) -> None:
    """On/off options, ``--name`` for each keyword (underscores as dashes), with their help."""
    for name, text in flags.items():
        p.add_argument(f"--{name.replace('_', '-')}", action="store_true", help=text)


def _images_option(p: argparse.ArgumentParser, **kwargs) -> None:
    """``--images DIR`` (and ``--photos``, its earlier name, hidden)."""
    p.add_argument("--images", **kwargs)
    p.add_argument("--photos", dest="images", help=argparse.SUPPRESS)


def _landmark_box_option(p: argparse.ArgumentParser, help_text: str, suffix: str = "") -> None:
    """``--landmark-box[-a|-b] x0,y0,x1,y1`` (and ``--box[-a|-b]``, hidden): the box of a face's 68 landmarks."""
    dest = "landmark_box" + suffix.replace("-", "_")
    p.add_argument(f"--landmark-box{suffix}", dest=dest, type=_box, metavar="X0,Y0,X1,Y1", help=help_text)
    p.add_argument(f"--box{suffix}", dest=dest, type=_box, help=argparse.SUPPRESS)


def _render(sub) -> None:
    r = _command(sub, "render", "render the embedded face model at a pose",
                 "Render the embedded ICT face model with a weak-perspective camera.")
    for name, lo, hi, text in (("yaw", -180, 180, "degrees, + turns the face to the image right"),
                               ("pitch", -90, 90, "degrees, + tilts the face down"),
                               ("roll", -180, 180, "degrees, + turns the face counter-clockwise")):
        r.add_argument(f"--{name}", type=_ranged(lo, hi), default=0.0, help=text)
    r.add_argument("--size", type=_ranged(16, 4096, int), default=224, help="image side in pixels (default 224)")
    r.add_argument("--fill", type=_ranged(0.05, 1.0), default=0.75, help="share of the image the face spans")
    r.add_argument("--identity", choices=("mean", "random"), default="mean", help="mean face or a random identity")
    r.add_argument("--identity-scale", type=_ranged(0, 3), default=1.0, help="std of random identity weights")
    r.add_argument("--expression", choices=("neutral", "random"), default="neutral")
    r.add_argument("--seed", type=SEED, default=0, help="random seed")
    _flags(r, landmarks="draw the 68 landmarks (green visible, red hidden)",
           json="print the camera and parameters as JSON")
    r.add_argument("-o", "--output", required=True, help="output image, .png or .jpg")


def _segment(sub) -> None:
    g = _command(sub, "segment", "build (or load) the random CVT surface segmentations",
                 "Build the random CVT segmentations of the face surface into the cache ($DFFKIT_CACHE or "
                 "~/.cache/dffkit) and print their uniformity.")
    _flags(g, json="print the summary as JSON")
    g.add_argument("--n-segmentations", type=_ranged(1, 1000, int), default=100)
    g.add_argument("--n-patches", type=_ranged(2, 5000, int), default=500)
    g.add_argument("--seed", type=SEED, default=0)


def _synth(sub) -> None:
    s = _command(sub, "synth", "synthesise training images from face images",
                 "Fit the face model to images and re-render them with new poses, expressions, lighting and "
                 "backgrounds (paper Sec. III-A). Resumable and verified: rerun the same command to finish an "
                 "interrupted run or repair damaged shards.")
    _images_option(s, help="folder of face images with .pts/.mat landmarks (default: the vendored sample)")
    s.add_argument("--out", required=True, help="dataset folder")
    s.add_argument("--n", type=_ranged(1, 10_000_000, int), default=1000, help="number of samples")
    s.add_argument("--size", type=_ranged(16, 1024, int), default=224, help="image side in pixels")
    s.add_argument("--seed", type=SEED, default=0)
    s.add_argument("--workers", type=_ranged(0, 256, int), default=2, help="processes (0: this one)")
    _cluster_option(s, "the shards (and the source fits); --out must be a folder every worker sees")
    s.add_argument("--split", choices=("train", "val", "test", "all"), default="train",
                   help="which images to use (fixed split by photograph; default train)")
    s.add_argument("--shard-size", type=_ranged(1, 100_000, int), default=64, help="samples per shard file")
    s.add_argument("--mode", choices=("render", "profile"), default="render",
                   help="render: the fitted face re-rendered on a new background; profile: the whole image lifted "
                        "to 3D and turned to a new pose (300W-LP style)")
    _flags(s, quiet="no progress bars", verbose="name every image that could not be used")


def _train(sub) -> None:
    t = _command(sub, "train", "train the DFF network on a synthetic dataset",
                 "Train the U-Net descriptor with the multi-segmentation angular-softmax loss. Under torchrun it "
                 "trains data-parallel (DDP).")
    t.add_argument("--config", default="cpu", help="named config: paper, cpu or tiny (default cpu)")
    t.add_argument("--data", required=True, nargs="+",
                   help="dataset folder(s) from 'dffkit synth' (several are read as one)")
    t.add_argument("--out", required=True, help="output folder: checkpoint.pt, log.csv, weights.pt")
    t.add_argument("--val", nargs="+", help="held-out dataset folder(s): their patch accuracy is recorded in weights.pt")
    t.add_argument("--steps", type=_ranged(1, 10_000_000, int), help="steps (default: the config's)")
    t.add_argument("--checkpoint-every", type=_ranged(1, 10_000_000, int), default=200,
                   help="steps between checkpoints (default 200)")
    t.add_argument("--init", help="weights.pt to start the network from (fine-tuning); default: from scratch")
    t.add_argument("--seed", type=_ranged(0, 2**31 - 1, int), default=0)
    t.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    _flags(t, resume="continue from OUT/checkpoint.pt", quiet="no progress bar")


def _distill(sub) -> None:
    d = _command(sub, "distill", "distil the DFF network into a narrower, faster student",
                 "Train a student U-Net to give the teacher's descriptor at every pixel (mean 1 - cosine, face pixels "
                 "weighted over the background), both shown the images at --side pixels, the side the alignment "
                 "cascade uses. The cascade's regressors read its descriptors as the teacher's; "
                 "benchmarks/eval_student.py scores it in the cascade.")
    d.add_argument("--data", required=True, nargs="+", help="dataset folder(s) from 'dffkit synth'")
    d.add_argument("--out", required=True, help="output folder: checkpoint.pt, log.csv, weights.pt")
    d.add_argument("--teacher", help="the teacher's weights.pt (default: the shipped weights)")
    d.add_argument("--widths", type=_widths, default=(8, 16, 32, 64),
                   help="the student's encoder widths, comma-separated, as deep as the teacher or not (default 8,16,32,64)")
    d.add_argument("--side", type=_ranged(16, 1024, int), default=112,
                   help="the side both networks see the images at, pixels (default 112, the cascade's)")
    d.add_argument("--val", nargs="+", help="held-out dataset folder(s): the agreement on them is recorded in weights.pt")
    d.add_argument("--steps", type=_ranged(1, 10_000_000, int), default=5000, help="steps (default 5000)")
    d.add_argument("--checkpoint-every", type=_ranged(1, 10_000_000, int), default=250,
                   help="steps between checkpoints (default 250)")
    d.add_argument("--seed", type=_ranged(0, 2**31 - 1, int), default=0)
    d.add_argument("--device", help="cpu, cuda, cuda:1 ... (default: cuda when available)")
    _flags(d, resume="continue from OUT/checkpoint.pt", quiet="no progress bar")


def _widths(text: str) -> tuple[int, ...]:
    try:
        widths = tuple(int(v) for v in text.split(","))
    except ValueError:
        widths = ()
    if not 2 <= len(widths) <= 6 or min(widths) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: give 2 to 6 positive channel counts, e.g. 8,16,32,64")
    return widths


def _precision_option(p) -> None:
    p.add_argument("--precision", choices=("fp32", "int8"),
                   help="the DFF network's precision: fp32, or int8 (the shipped weights quantised; faster, see the "
                        "model card) (default: DFFKIT_PRECISION, else fp32)")


def _cluster_option(p, what: str) -> None:
    p.add_argument("--cluster", metavar="local:N|tcp://HOST:PORT",
                   help=f"run {what} on a Dask cluster instead of --workers: local:N starts N worker processes here, "
                        "tcp://HOST:PORT uses a running 'dask scheduler' (pip install dask distributed)")


def _train_align(sub) -> None:
    ta = _command(sub, "train-align", "learn the alignment regressors (a descriptor's cascade or the 2D SDM mode)",
                  "Learn the cascade's descent directions stage by stage (paper eqs. 9, 10) and write "
                  "align_KIND.npz and its model card into --out. A descriptor's cascade learns on a dataset from "
                  "'dffkit synth' (--data); sdm learns on the train split of an annotated image folder (--images).")
    ta.add_argument("--kind", choices=_kinds(), default="dff",
                    help="a descriptor's 3D cascade, or sdm for the 2D mode on DFF (default dff)")
    ta.add_argument("--data", help="dataset folder from 'dffkit synth' (a descriptor's cascade)")
    _images_option(ta, required=True, help="annotated image folder (.pts): its train split")
    ta.add_argument("--n", type=_ranged(1, 10_000_000, int), default=8000, help="samples or images used")
    ta.add_argument("--n-init", type=_ranged(1, 100, int), default=2, help="starts per sample")
    ta.add_argument("--box-jitter", type=_ranged(0, 0.5), default=0.05, help="jitter of the true boxes, share of size")
    ta.add_argument("--near-starts", type=_ranged(0, 100, int), default=0,
                    help="of the --n-init starts, how many are near the truth (a quarter of --box-jitter), so that the "
                         "stages leave a converged face where it is (default 0)")
    ta.add_argument("--stages", type=_ranged(1, 10, int), default=3, help="cascade stages (default 3, the paper's)")
    ta.add_argument("--weights", help="DFF weights.pt (default: the shipped ones)")
    ta.add_argument("--dff-side", type=_ranged(16, 1024, int), metavar="PX",
                    help="the side the DFF network sees each crop at, pixels (a multiple of 16, at most the crop size; "
                         "default: the crop size); recorded in the regressors, which then always run with it")
    ta.add_argument("--regressors", help="a cascade to refine (with --refine) instead of learning one")
    ta.add_argument("--refine", type=_ranged(0, 10, int), default=0,
                    help="learn this many 2D refinement stages per landmark convention after the cascade, and the "
                         "points' uncertainty: on the train-split images of --images (2D convention) and the "
                         "samples of --data (both conventions) (default 0: none)")
    ta.add_argument("--image-init", type=_ranged(1, 100, int), default=4,
                    help="with --refine: starts per real image (a jittered or detector box each; default 4)")
    ta.add_argument("--verdict", type=_ranged(0, 1_000_000, int), default=0, metavar="N",
                    help="also learn the face verdict (is the aligned box a face?) on the train-split images of --images "
                         "and N samples of --data, its threshold on the val split and --val-data (default 0: none)")
    ta.add_argument("--val-data", help="with --verdict: a held-out dataset from 'dffkit synth' (e.g. --split val)")
    ta.add_argument("--out", required=True, help="output folder for the .npz and the card")
    _flags(ta, detector_starts="the first start of each sample from the default detector's box (as at test time)",
           quiet="no progress bars")


def _features(sub) -> None:
    f = _command(sub, "features", "compute the DFF descriptor map of a face image",
                 "Crop the face (from --landmark-box or the face detector), run the DFF network and save the "
                 "(H, W, 32) descriptor map of the crop as .npy.")
    f.add_argument("image")
    f.add_argument("-o", "--output", required=True, help="output .npy")
    _landmark_box_option(f, "the face's landmark box (around its 68 points, brows to chin), pixels (default: the "
                            "largest face the detector finds)")
    f.add_argument("--weights", help="weights.pt (default: the shipped CPU weights)")
    _flags(f, json="print the output's shape and crop as JSON")


def _match(sub) -> None:
    m = _command(sub, "match", "match two face images with a descriptor (DFF, SIFT, ...)",
                 "Match the face of image A into image B (paper Sec. IV-A). SIFT: Lowe's ratio test; DFF: nearest "
                 "descriptor angle, valid under --max-angle (30° sparse, 12° dense). Faces come from "
                 "--landmark-box-a/-b or the face detector.")
    m.add_argument("image_a")
    m.add_argument("image_b")
    m.add_argument("--method", choices=_names("descriptor"), default="dff",
                   help="the descriptor; it matches by its own rule: SIFT by Lowe's ratio test, DFF by the nearest "
                        "angle (default dff)")
    m.add_argument("--stride", type=_ranged(1, 64, int), default=2,
                   help="dense source pixel step (at least one descriptor cell)")
    m.add_argument("--max-angle", type=_ranged(0.1, 180), help="DFF validity angle, degrees")
    m.add_argument("--ratio", type=_ranged(0.01, 1.0), default=1 / 1.3, help="SIFT ratio test (default 1/1.3)")
    _landmark_box_option(m, "landmark box of A's face, pixels", "-a")
    _landmark_box_option(m, "landmark box of B's face, pixels", "-b")
    m.add_argument("--weights", help="DFF weights.pt (default: the shipped CPU weights)")
    m.add_argument("--height", type=_ranged(32, 4096, int), default=400, help="height of the drawing, pixels")
    m.add_argument("-o", "--output", help="side-by-side drawing of the valid matches, .png or .jpg")
    _flags(m, dense="match every face pixel (default: SIFT keypoints); angle descriptors only",
           json="print the matches as JSON [xa, ya, xb, yb, score]")


def _align(sub) -> None:
    a = _command(sub, "align", "large-pose 68-point alignment of every face in images or folders",
                 "Align faces with the DFF cascaded regression (paper Sec. III-C): 68 landmarks, their visibility "
                 "and the head pose. Without --landmark-box, the face detector finds every face. One image prints "
                 "its faces; several images or folders (or --csv / --jsonl) write one row per face, with one model "
                 "load per process.")
    a.add_argument("images", nargs="+", help="image files or folders of images")
    _landmark_box_option(a, "the face's landmark box (around its 68 points, brows to chin), pixels")
    a.add_argument("--detector", choices=_names("detector"), help="the face detector (default blazeface)")
    a.add_argument("--descriptor", choices=_kinds(),
                   help="the regressor kind: dff, sift for 'Ours (SIFT)', sdm for the 2D SDM mode (default: dff, or "
                        "with --regressors the file's own kind); a --regressors file of another kind is refused")
    a.add_argument("--regressors", help="regressor .npz (default: the shipped ones)")
    a.add_argument("--convention", choices=("2d", "3d"), default="2d",
                   help="the landmarks drawn and put in the CSV's x, y columns: 2d (default; 300-W: the jawline on "
                        "the visible silhouette) or 3d (AFLW2000-3D: the model's landmark vertices, hidden ones "
                        "included); JSON carries both")
    a.add_argument("-o", "--output", help="overlay image, .png or .jpg (green visible, red hidden landmarks; one image)")
    for name, text in (("mesh", "the photo-coloured 3D face, .ply or .obj (face k > 0 in NAME_k.ply)"),
                       ("depth", "the faces' depth map as an image, .png or .jpg (nearer is brighter)"),
                       ("pncc", "the faces' normalised coordinate code (PNCC) image, .png or .jpg"),
                       ("pose-axes", "the image with each head's axes (x red, y green, z blue), .png or .jpg"),
                       ("csv", "write one row per face to this CSV file (many images)"),
                       ("jsonl", "write one JSON line per face to this file (many images)")):
        a.add_argument(f"--{name}", help=text)
    a.add_argument("--workers", type=_ranged(1, 256, int), default=1, help="processes for many images (default 1)")
    _cluster_option(a, "many images")
    _precision_option(a)
    _flags(a, json="print every face's record as JSON", dense="with --json: every visible vertex's 2D point and "
           "depth too", resume="skip the files already in the --csv / --jsonl output", quiet="no progress bar")


def _track(sub) -> None:
    k = _command(sub, "track", "track faces through a video",
                 "Track every face of a video (a file or a folder of frames). Each frame, the cascade aligns "
                 "each tracked face from its previous landmarks, and its own verdict (the descriptor's agreement "
                 "with the model) says whether the face is still there; a track is lost when it is not. The "
                 "detector searches the whole frame for new faces every --detect-every frames and when a track "
                 "is lost. Landmarks are smoothed by a One-Euro filter (--no-filter: raw). A face that comes back "
                 "within 1 s at the same place, or within --reid-s seconds in the same shot and recognised as the "
                 "same person (dlib's face-recognition network), takes its track id back; otherwise ids are never "
                 "reused.")
    k.add_argument("video", help="a video file (MP4, AVI, MOV, MKV) or a folder of frames")
    k.add_argument("-o", "--output", help="overlay video, .mp4 (landmarks and track ids)")
    k.add_argument("--jsonl", help="one JSON line per frame and face (default: printed)")
    k.add_argument("--csv", help="one CSV row per frame and face")
    k.add_argument("--min-cutoff", type=_ranged(0.001, 100), default=1.0, help="One-Euro cut-off when still, Hz")
    k.add_argument("--beta", type=_ranged(0, 1000), default=5.0, help="One-Euro speed coefficient")
    k.add_argument("--detect-every", type=_ranged(0, 100000, int), default=10,
                   help="search the whole frame for new faces every N frames (0: only when a track is lost or there "
                        "is none) (default 10)")
    k.add_argument("--fps", type=_ranged(0.1, 1000), default=25.0, help="frame rate of a folder of frames")
    k.add_argument("--reid-s", type=_ranged(0, 100000), default=10.0,
                   help="how long a lost face is remembered for recognition, seconds (0: never recognised) "
                        "(default 10)")
    _precision_option(k)
    _flags(k, no_filter="no temporal filter", quiet="no progress bar")


def _eval(sub) -> None:
    e = _command(sub, "eval", "score alignment methods on a benchmark protocol",
                 "Evaluate alignment under a protocol: aflw2000-3d (68 points, box NME, yaw bins), aflw (21 points, "
                 "visible), 300w (inter-pupil and inter-ocular), 300w-inner, or a registered one.")
    e.add_argument("protocol", choices=_names("protocol"))
    e.add_argument("--root", required=True, help="the dataset folder (annotations beside the images)")
    e.add_argument("--method", default="dff", type=_methods,
                   help=f"comma-separated, of: {', '.join(_names('method'))} (default dff)")
    e.add_argument("--limit", type=_ranged(1, 10_000_000, int), help="evaluate the first N faces only")
    _precision_option(e)
    _flags(e, json="print the results as JSON (NMEs as fractions)",
           verbose="list every face that could not be evaluated", quiet="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    """The ``dffkit`` argument parser with every command.

    Example:
        >>> build_parser().parse_args(["align", "a.jpg", "--landmark-box", "1,2,30,40"]).landmark_box
        (1.0, 2.0, 30.0, 40.0)
    """
    from dffkit import __version__

    parser = _Parser(prog="dffkit", description="Deep Face Feature (DFF) for large-pose face alignment.")
    parser.add_argument("--version", action="version", version=f"dffkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for add in (_render, _segment, _synth, _train, _distill, _train_align, _features, _match, _align, _track, _eval):
        add(sub)
    return parser
