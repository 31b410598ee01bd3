"""Ship a trained DFF network: copy its weights and log into dffkit/assets and write its model card.

Reads OUT/weights.pt (with its training metadata and held-out accuracy) and OUT/log.csv from a
``dffkit train`` run, and the manifests of its datasets, then writes

    dffkit/assets/dff_cpu.pt              the network weights and config (float32)
    dffkit/assets/dff_cpu.onnx            its ONNX export (config and the .pt's SHA-256 in the metadata)
    dffkit/assets/dff_cpu_log.csv         the training log (the book plots it)
    dffkit/assets/DFF_CPU_MODEL_CARD.md   data recipe, config, steps, wall time, machine, accuracy, and the
                                          previous card's numbers kept beside the new ones

With ``--val DIR`` (repeatable), the held-out patch accuracy is also measured on each held-out dataset
on its own, with the run's checkpointed heads.

Usage:
    python tools/ship_weights.py RUN_DIR --synth-cmd "..." --train-cmd "..." [--val DIR ...]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import torch

from dffkit.data.dataset import SynthDataset
from dffkit.dff.batches import label_table
from dffkit.dff.loss import SegmentationHeads
from dffkit.dff.net import NetConfig, UNet
from dffkit.dff.runner import export_onnx, file_sha256
from dffkit.dff.train import evaluate_patches
from dffkit.dff.weights import load_weights, read_checkpoint, save_torch
from dffkit.evaluation.report import machine_info

ASSETS = Path(__file__).resolve().parents[1] / "dffkit" / "assets"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("--name", default="dff_cpu")
    ap.add_argument("--synth-cmd", action="append", default=[], help="the dffkit synth commands of the data")
    ap.add_argument("--train-cmd", required=True, help="the dffkit train command")
    ap.add_argument("--val", action="append", default=[], type=Path, help="a held-out dataset scored on its own")
    args = ap.parse_args()
    card_path = ASSETS / f"{args.name.upper()}_MODEL_CARD.md"
    previous = _previous(card_path)
    w = read_checkpoint(args.run / "weights.pt")
    cfg = NetConfig.from_dict(w["config"])
    meta = w["meta"]
    n_params = sum(p.numel() for p in UNet(cfg).parameters())
    save_torch(ASSETS / f"{args.name}.pt", {"format": w["format"], "config": w["config"], "net": w["net"], "meta": meta})
    shutil.copyfile(args.run / "log.csv", ASSETS / f"{args.name}_log.csv")
    pt = ASSETS / f"{args.name}.pt"
    export_onnx(load_weights(pt), ASSETS / f"{args.name}.onnx",
                metadata={"weights_file": pt.name, "weights_sha256": file_sha256(pt)})
    manifests = [json.loads((Path(d) / "manifest.json").read_text())["config"] for d in meta["data"].split("+")]
    data_manifest = {"n": sum(m["n"] for m in manifests), "split": manifests[0]["split"],
                     "photos": sorted({p for m in manifests for p in m["photos"]}), "seed": manifests[0]["seed"],
                     "synth": manifests[0]["synth"],
                     "parts": ", ".join(f"{m['n']:,} {m['synth'].get('mode', 'render')} samples at "
                                        f"{m['synth']['size']}x{m['synth']['size']} (seed {m['seed']})" for m in manifests)}
    per_set = _per_set_accuracy(args.run, cfg, args.val)
    acc = np.array(meta.get("val_accuracy_per_segmentation", [np.nan]))
    ratio = np.nanmean(acc) * cfg.n_patches
    verdict = ("the pipeline learns, but this network is not yet a useful descriptor; it ships so that the "
               "book, the API and the tests run end to end." if ratio < 10 else "a working descriptor trained at a small CPU scale, not the paper's network.")
    card = f"""# Model card: DFF network, `{cfg.name}` config (`{args.name}.pt`)

The per-pixel face descriptor network shipped with dffkit: a U-Net (paper Fig. 1) mapping a
{cfg.size}x{cfg.size} RGB face crop to a unit {cfg.dim}-d descriptor per pixel. Trained with dffkit's own
code (`dffkit train`) on data made by `dffkit synth`. Loaded by `dffkit.dff.weights.load_weights()`.

## Config

| field | value |
|---|---|
| input size | {cfg.size} |
| encoder widths | {list(cfg.widths)} |
| descriptor dim | {cfg.dim} |
| parameters | {n_params:,} |
| segmentations x patches | {cfg.n_segmentations} x {cfg.n_patches} |
| logit scale | {cfg.scale} |
| pixels per image per step | {cfg.pixels_per_image} |
| heads per step | {cfg.heads_per_step} |
| heads' learning rate / network's | {cfg.head_lr_scale} |
| batch size | {cfg.batch_size} |
| optimiser | Adam, lr {cfg.lr}, cosine decay to 5% |

## Data recipe

{len(data_manifest["photos"])} source photos of the `{data_manifest["split"]}` split of 300-W (AFW + HELEN-train,
`../shared/data/300w`): {data_manifest["parts"]} ("profile": the photos themselves turned, `dffkit synth --mode
profile`; "render": re-rendered textured heads), resized to {cfg.size}x{cfg.size} for training.
{"Fine-tuned from the previously shipped weights (`--init`)." if meta.get("init") else "Trained from scratch."}
Held-out data: the `val` split's photos, never used for training ({meta.get("n_val_samples", "n/a")} samples).

```bash
{chr(10).join(args.synth_cmd)}
{args.train_cmd}
```

## Training

| | |
|---|---|
| steps | {meta["steps"]:,} |
| wall time (training steps) | {meta["train_seconds"] / 60:.1f} min |
| device | {meta["device"]} x {meta["world_size"]} |
| machine | {machine_info()["cpu"]}, {machine_info()["cores"]} cores (the machine this card was written on) |
| torch | {torch.__version__} |

## Held-out patch accuracy

Top-1 patch classification accuracy on every labelled pixel of the held-out synthetic images, per
segmentation ({cfg.n_patches} patches each; chance {1 / cfg.n_patches:.4f}):

| mean over segmentations | min | max | chance |
|---|---|---|---|
| {np.nanmean(acc):.4f} | {np.nanmin(acc):.4f} | {np.nanmax(acc):.4f} | {1 / cfg.n_patches:.4f} |
{per_set}

## Limits

Trained on CPU at a small scale ({data_manifest["n"]:,} images of {len(data_manifest["photos"])} photos at
{cfg.size}x{cfg.size}, {meta["steps"]:,} steps, against the paper's 80,000 at 224x224 from 4,308 photos).
Its held-out accuracy is {np.nanmean(acc) * cfg.n_patches:.1f} times chance: {verdict}
The `paper` config reproduces the paper's scale on a GPU.
"""
    if previous:
        card += "\n## The previously shipped network (its card's numbers, kept for comparison)\n\n" + previous + "\n"
    card_path.write_text(card)
    print(card)


def _previous(card: Path) -> str:
    """The data recipe and accuracy sections of the card being replaced (empty when there is none)."""
    if not card.is_file():
        return ""
    text = card.read_text().split("\n## The previously shipped network")[0]
    keep = []
    for title in ("## Data recipe", "## Training", "## Held-out patch accuracy"):
        if title in text:
            body = text.split(title, 1)[1].split("\n## ", 1)[0]
            keep.append("#" + title + body.rstrip())
    return "\n\n".join(keep)


def _per_set_accuracy(run: Path, cfg: NetConfig, sets: list[Path]) -> str:
    """Held-out patch accuracy of the run's network and checkpointed heads on each dataset on its own."""
    if not sets:
        return ""
    ck = torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=True)
    net = UNet(cfg)
    net.load_state_dict(ck["net"])
    heads = SegmentationHeads(cfg.n_segmentations, cfg.n_patches, cfg.dim)
    heads.load_state_dict(ck["heads"])
    table = label_table(cfg)
    rows = ["", "Per held-out dataset (same network and heads):", "", "| held-out dataset | images | accuracy, mean over segmentations |", "|---|---|---|"]
    for d in sets:
        ds = SynthDataset(d)
        acc = evaluate_patches(net, heads, ds, table)
        mode = json.loads((d / "manifest.json").read_text())["config"]["synth"].get("mode", "render")
        rows.append(f"| {d.name} ({mode}) | {len(ds)} | {acc.mean():.4f} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()
