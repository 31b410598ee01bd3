"""``dffkit train-align``: the cascade (3D, or the 2D SDM mode), its refinement, and its face verdict, learned
and saved with a card. The cascade's stages are checkpointed as they are learned, so that a killed run,
started again with the same arguments, resumes at the stage it had reached."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from dffkit.errors import DffkitError

__all__ = ["train_align"]


def train_align(args: argparse.Namespace) -> int:
    """Learn what ``args`` asks (a cascade from ``--data``, or ``--refine``/``--verdict`` on ``--regressors``),
    save ``align_KIND.npz`` and its card in ``--out``, and return 0."""
    from dffkit.alignment.card import write_card
    from dffkit.alignment.cascade import Aligner
    from dffkit.alignment.learn import train_refinement, train_regressors, train_sdm
    from dffkit.alignment.regressors import Regressors
    from dffkit.data.dataset import SynthDataset
    from dffkit.data.photos import list_images, read_landmarks
    from dffkit.dff.runner import file_sha256
    from dffkit.dff.weights import load_weights, shipped_weights_path
    from dffkit.evaluation.report import machine_info, relative_path
    from dffkit.face.landmarks import contour_candidates
    from dffkit.face.model import load_default_model
    from dffkit.images import read_image

    learn_cascade = args.regressors is None
    if args.kind != "sdm" and args.data is None and (learn_cascade or not (args.refine or args.verdict)):
        raise DffkitError(f"--kind {args.kind} learns on a synthetic dataset: pass --data DIR from 'dffkit synth'")
    if args.kind == "sdm" and args.refine:
        raise DffkitError("--refine refines a 3D cascade; the 2D SDM mode is 2D already")
    faces = list_images(args.images, split="train", require_landmarks=True)
    if not faces:
        raise DffkitError(f"{args.images} holds no annotated train-split images (.jpg/.png with .pts or .mat)")
    side = getattr(args, "dff_side", None)
    if side is not None and args.kind != "dff":
        raise DffkitError(f"--dff-side sets the DFF network's input of a dff cascade, not of --kind {args.kind}")
    ds = SynthDataset(args.data) if args.data is not None else None
    base = Regressors.load(args.regressors, descriptor=args.kind) if not learn_cascade else None
    if base is not None and side is not None:  # the cascade runs with the network seeing its crops at this side
        import dataclasses

        base = dataclasses.replace(base, descriptor_options={**base.descriptor_options, "side": side})
    model, net = load_default_model(), load_weights(args.weights)
    if args.detector_starts:
        from dffkit.detect import default_detector

        detector = default_detector()
    else:
        detector = None
    out = Path(args.out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DffkitError(f"{out}: cannot create the output folder ({exc.strerror})") from None
    t = time.perf_counter()
    checkpoint = out / f"align_{args.kind}.stages.npz"  # the cascade's stages as learned: a killed run resumes
    n = min(args.n, len(ds)) if ds is not None else args.n
    if args.kind == "sdm":
        pairs = ((read_image(p.image), read_landmarks(p.landmarks)) for p in faces[: args.n])
        reg = train_sdm(model, pairs, net=net, n_init=args.n_init, box_jitter=args.box_jitter, detector=detector,
                        progress=not args.quiet)
        reg.meta.update(images=relative_path(args.images), split="train")
    elif learn_cascade:
        reg = train_regressors(model, (ds[i] for i in range(n)), descriptor=args.kind, net=net, n_init=args.n_init,
                               n_stages=args.stages, box_jitter=args.box_jitter, detector=detector,
                               descriptor_options=None if side is None else {"side": side},
                               near_starts=args.near_starts, progress=not args.quiet, checkpoint=checkpoint)
        reg.meta.update(data=relative_path(args.data))
    else:
        reg = base
    if args.refine:
        bands = contour_candidates(model)
        real = ((read_image(p.image), {"2d": read_landmarks(p.landmarks)}, args.image_init)  # several boxes each
                for p in faces)
        rendered = ((s.image, s.conventions(model, bands)) for s in (ds[i] for i in range(n))) if ds is not None \
            else iter(())
        reg = train_refinement(Aligner(model, reg.cascade_only(), net=net), _chain(real, rendered), n_stages=args.refine,
                               n_init=1, box_jitter=args.box_jitter, detector=detector, progress=not args.quiet,
                               seed=1)
        reg.meta["refine"].update(images=relative_path(args.images), image_init=args.image_init,
                                  data=None if args.data is None else relative_path(args.data))
    if args.verdict:
        reg = _learn_verdict(args, model, reg, net, faces, ds)
    reg.meta.update(weights=Path(args.weights).name if args.weights else "dff_cpu.pt",
                    weights_sha256=file_sha256(Path(args.weights) if args.weights else shipped_weights_path()),
                    train_seconds=time.perf_counter() - t, machine=machine_info(), command=" ".join(sys.argv[1:]))
    path = reg.save(out / f"align_{args.kind}.npz")
    checkpoint.unlink(missing_ok=True)
    card = write_card(out)
    print(f"wrote {path} and {card}")
    return 0


def _learn_verdict(args, model, reg, net, faces, ds):
    """The regressors with the face verdict learned on real train-split images and ``args.verdict`` samples,
    its threshold chosen on the val split and ``--val-data``."""
    import dataclasses

    from dffkit.alignment.cascade import Aligner
    from dffkit.alignment.learn import learn_restart_scale
    from dffkit.alignment.verdict import train_verdict
    from dffkit.data.dataset import SynthDataset
    from dffkit.data.photos import list_images, read_landmarks
    from dffkit.evaluation.report import relative_path
    from dffkit.images import read_image
    from dffkit.records import to_json_value

    def real(split):
        return ((read_image(p.image), read_landmarks(p.landmarks)) for p in
                list_images(args.images, split=split, require_landmarks=True))

    def views(data, n):
        return ((s.image, s.landmarks68) for s in (data[i] for i in range(min(n, len(data)))))

    val = SynthDataset(args.val_data) if args.val_data else None
    aligner = Aligner(model, reg, net=net)
    template, fit = train_verdict(aligner, _chain(real("train"), views(ds, args.verdict) if ds else ()),
                                  _chain(real("val"), views(val, args.verdict) if val else ()), progress=not args.quiet)
    restart = learn_restart_scale(aligner, _chain(real("val"), views(val, 300) if val else ()))
    meta = {**reg.meta, "verdict": {**to_json_value(fit), "train_samples": args.verdict,
                                    "val_data": args.val_data and relative_path(args.val_data)}}
    meta["verdict"].pop("roc", None)
    meta["verdict"].pop("weights", None)
    meta["restart"] = restart
    return dataclasses.replace(reg, verdict={"template": template, "weights": fit.weights, "threshold": fit.threshold},
                               restart_scale=restart["restart_scale"], restart_by_yaw=restart["restart_by_yaw"],
                               meta=meta)


def _chain(*iterables):
    for it in iterables:
        yield from it
