"""The DFF network, its loss, training loop, checkpoints, inference API and ONNX export."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest
import torch

from dffkit import DffkitError
from dffkit.boxes import square_crop
from dffkit.data.dataset import SynthDataset
from dffkit.data.generate import generate_dataset
from dffkit.dff.features import features
from dffkit.dff.loss import SegmentationHeads, multi_head_loss
from dffkit.dff.net import CONFIGS, NetConfig, UNet, get_config
from dffkit.dff.runner import export_onnx
from dffkit.dff.weights import load_weights

TINY = get_config("tiny")


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp("nets")
    generate_dataset(root / "train", n=24, size=64, seed=3, workers=0, shard_size=8, progress=False)
    generate_dataset(root / "val", n=8, size=64, seed=4, split="val", workers=0, shard_size=8, progress=False)
    return root


@pytest.fixture(scope="module")
def trained(tiny_data, tmp_path_factory):
    from dffkit.dff.train import train

    out = tmp_path_factory.mktemp("run")
    weights = train(TINY, tiny_data / "train", out, steps=40, val_data=tiny_data / "val", progress=False)
    return out, weights


def test_unet_outputs_unit_descriptors_at_input_resolution():
    net = UNet(NetConfig(name="t", size=32, widths=(4, 8), dim=32, n_segmentations=2, n_patches=3)).eval()
    f = net(torch.rand(2, 3, 32, 32))
    assert f.shape == (2, 32, 32, 32)
    torch.testing.assert_close(f.norm(dim=1), torch.ones(2, 32, 32))


def test_unet_concatenates_shallow_features():
    net = UNet(TINY)
    up_in = [blk[0].in_channels for blk in net.up]
    assert up_in == [2 * w for w in reversed(TINY.widths[:-1])]


def test_configs_exist_and_sizes_are_checked():
    assert {"paper", "cpu"} <= set(CONFIGS)
    assert CONFIGS["paper"].size == 224 and CONFIGS["paper"].dim == 32
    assert CONFIGS["paper"].pixels_per_image is None and CONFIGS["paper"].heads_per_step is None
    with pytest.raises(DffkitError):
        NetConfig(name="bad", size=30, widths=(4, 8, 16))
    with pytest.raises(DffkitError, match="unknown config"):
        get_config("huge")


def test_loss_is_the_mean_angular_softmax_summed_over_heads():
    torch.manual_seed(0)
    heads = SegmentationHeads(3, 5, 4)
    f = torch.nn.functional.normalize(torch.randn(2, 4, 3, 3), dim=1)
    labels = torch.randint(0, 5, (2, 3, 3, 3))
    labels[0, :, 0, 0] = -1  # an unlabelled pixel
    loss, _ = multi_head_loss(f, labels, heads, torch.arange(3), scale=2.0, chunk=2)
    w = torch.nn.functional.normalize(heads.weight, dim=-1)
    expected = 0.0
    for k in range(3):
        per_image = []
        for b in range(2):
            terms = []
            for i in range(3):
                for j in range(3):
                    y = int(labels[b, k, i, j])
                    if y < 0:
                        continue
                    logits = 2.0 * w[k] @ f[b, :, i, j]
                    terms.append(-torch.log_softmax(logits, 0)[y])
            per_image.append(torch.stack(terms).mean())
        expected += torch.stack(per_image).mean()
    torch.testing.assert_close(loss, expected)


def test_sampled_heads_estimate_the_full_sum():
    torch.manual_seed(1)
    heads = SegmentationHeads(6, 5, 4)
    f = torch.nn.functional.normalize(torch.randn(1, 4, 4, 4), dim=1)
    labels = torch.randint(0, 5, (1, 6, 4, 4))
    full, _ = multi_head_loss(f, labels, heads, torch.arange(6), scale=1.0)
    parts = [multi_head_loss(f, labels[:, [k]], heads, torch.tensor([k]), scale=1.0)[0] for k in range(6)]
    torch.testing.assert_close(torch.stack(parts).mean(), full)


def test_loss_with_unit_scale_cannot_go_below_its_bound():
    """With scale 1 the logits lie in [-1, 1]: even a perfect descriptor keeps the loss near log(P) - 2."""
    heads = SegmentationHeads(1, 500, 32)
    w = torch.nn.functional.normalize(heads.weight[0], dim=-1)
    f = w[:10].T.reshape(1, 32, 1, 10)  # each pixel's descriptor equals its class vector
    labels = torch.arange(10).reshape(1, 1, 1, 10)
    loss, acc = multi_head_loss(f, labels, heads, torch.tensor([0]), scale=1.0)
    assert loss.item() > math.log(500) - 2.5 and acc.item() == 1.0


def test_training_lowers_the_loss_and_records_held_out_accuracy(trained):
    out, weights = trained
    rows = [line.split(",") for line in (out / "log.csv").read_text().splitlines()[1:]]
    losses = [float(r[1]) for r in rows]
    assert losses[-1] < losses[0]
    meta = torch.load(weights, weights_only=True)["meta"]
    acc = np.array(meta["val_accuracy_per_segmentation"])
    assert len(acc) == TINY.n_segmentations and ((acc >= 0) & (acc <= 1)).all()
    assert meta["chance"] == 1 / TINY.n_patches


def test_network_and_heads_can_fit_one_batch(tiny_data):
    """The labels, the loss and the network fit together: one batch is learnt well above chance."""
    from dffkit.dff.batches import batches, label_table, patch_labels

    torch.manual_seed(0)
    x, ids = next(batches(SynthDataset(tiny_data / "train"), 64, 4, seed=0))
    table = label_table(TINY)
    hidx = torch.arange(TINY.n_segmentations)
    labels = patch_labels(table, hidx, ids)
    net, heads = UNet(TINY), SegmentationHeads(TINY.n_segmentations, TINY.n_patches, TINY.dim)
    opt = torch.optim.Adam(list(net.parameters()) + list(heads.parameters()), lr=3e-3)
    for _ in range(80):
        loss, acc = multi_head_loss(net(x), labels, heads, hidx, TINY.scale)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert acc.item() > 5 / TINY.n_patches


def test_resume_continues_from_the_checkpoint(tiny_data, tmp_path):
    from dffkit.dff.train import train

    train(TINY, tiny_data / "train", tmp_path, steps=10, progress=False, ckpt_every=5)
    ckpt = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    assert ckpt["step"] == 10 and ckpt["config"]["name"] == "tiny"
    with pytest.raises(DffkitError, match="--resume"):
        train(TINY, tiny_data / "train", tmp_path, steps=12, progress=False)
    train(TINY, tiny_data / "train", tmp_path, steps=15, resume=True, progress=False)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 15
    steps = [int(line.split(",")[0]) for line in (tmp_path / "log.csv").read_text().splitlines()[1:]]
    assert steps == sorted(steps) and steps[-1] == 15


def test_training_is_seeded(tiny_data, tmp_path):
    from dffkit.dff.train import train

    a = train(TINY, tiny_data / "train", tmp_path / "a", steps=3, progress=False)
    b = train(TINY, tiny_data / "train", tmp_path / "b", steps=3, progress=False)
    sa, sb = torch.load(a, weights_only=True)["net"], torch.load(b, weights_only=True)["net"]
    for k in sa:
        torch.testing.assert_close(sa[k], sb[k])


def test_mismatched_or_corrupt_checkpoints_are_named(trained, tmp_path):
    _, weights = trained
    with pytest.raises(DffkitError, match="pass --config tiny"):
        load_weights(weights, get_config("cpu"))
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(DffkitError, match="not a readable"):
        load_weights(bad)
    with pytest.raises(DffkitError, match="no such"):
        load_weights(tmp_path / "missing.pt")


def test_onnx_and_torch_agree(trained, tmp_path):
    import onnxruntime as ort

    net = load_weights(trained[1])
    path = export_onnx(net, tmp_path / "dff.onnx")
    x = np.random.default_rng(0).random((2, 3, 64, 64), dtype=np.float32)
    onnx_out = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, {"image": x})[0]
    torch_out = net(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(onnx_out, torch_out, atol=1e-4)


def test_features_crop_and_sample_map_image_points(trained, tiny_data):
    net = load_weights(trained[1])
    s = SynthDataset(tiny_data / "val")[0]
    box = np.r_[s.landmarks68.min(0), s.landmarks68.max(0)]
    ff = features(s.image, box, net=net)
    assert ff.descriptors.shape == (64, 64, 32)
    np.testing.assert_allclose(np.linalg.norm(ff.descriptors, axis=-1), 1.0, atol=1e-4)
    x0, y0, side = square_crop(box)
    # the centre of crop pixel (i, j) maps back onto that pixel
    centre = np.array([[x0 + 10.5 * side / 64 - 0.5, y0 + 20.5 * side / 64 - 0.5]])
    np.testing.assert_allclose(ff.sample(centre)[0], ff.descriptors[20, 10], atol=1e-5)
    assert (ff.sample(np.array([[-1e4, -1e4]])) == 0).all()


def test_features_accept_gray_and_reject_bad_boxes(trained):
    net = load_weights(trained[1])
    gray = np.full((80, 80), 120, np.uint8)
    assert features(gray, np.array([10, 10, 60, 60]), net=net).descriptors.shape == (64, 64, 32)
    with pytest.raises(DffkitError, match="box"):
        features(gray, np.array([10, 10, 5, 60]), net=net)
    with pytest.raises(DffkitError, match="box"):
        features(gray, np.array([np.nan, 10, 50, 60]), net=net)


def test_cli_features_writes_npy(trained, tiny_data, tmp_path):
    from dffkit.images import write_image

    s = SynthDataset(tiny_data / "val")[0]
    write_image(tmp_path / "face.png", s.image)
    r = subprocess.run([sys.executable, "-m", "dffkit.cli", "features", str(tmp_path / "face.png"), "--box",
                        "8,8,56,56", "--weights", str(trained[1]), "-o", str(tmp_path / "f.npy"), "--json"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["shape"] == [64, 64, 32]
    assert np.load(tmp_path / "f.npy").shape == (64, 64, 32)


@pytest.mark.parametrize("args,match", [
    (["features", "missing.png", "-o", "f.npy"], "no such file"),
    (["features", "x.png", "--box", "1,2,3", "-o", "f.npy"], "box"),
    (["train", "--data", "nowhere", "--out", "o", "--config", "huge"], "unknown config"),
])
def test_cli_learning_commands_reject_bad_input(tmp_path, args, match):
    (tmp_path / "x.png").write_bytes(b"")
    r = subprocess.run([sys.executable, "-m", "dffkit.cli", *args], capture_output=True, text=True, cwd=tmp_path,
                       timeout=120)
    assert r.returncode == 2 and match in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "f.npy").exists()


def test_ddp_under_torchrun_trains_on_two_processes(tiny_data, tmp_path):
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", "29517",
                "-m", "dffkit.cli", "train", "--config", "tiny", "--data", str(tiny_data / "train"), "--out",
                str(tmp_path), "--steps", "4", "--quiet"]
    r = subprocess.run(torchrun, capture_output=True, text=True, timeout=300, env={**__import__("os").environ,
                                                                                     "OMP_NUM_THREADS": "1"})
    assert r.returncode == 0, r.stderr[-2000:]
    assert torch.load(tmp_path / "weights.pt", weights_only=True)["meta"]["world_size"] == 2


def test_the_shipped_onnx_export_is_of_the_shipped_weights_and_agrees_with_torch():
    import onnxruntime as ort

    from dffkit.dff.runner import DffRunner, file_sha256, shipped_onnx_path
    from dffkit.dff.weights import shipped_weights_path

    meta = ort.InferenceSession(str(shipped_onnx_path())).get_modelmeta().custom_metadata_map
    assert meta["weights_sha256"] == file_sha256(shipped_weights_path())
    crops = np.random.default_rng(0).integers(0, 256, (2, 128, 128, 3), dtype=np.uint8)
    a, b = DffRunner(engine="onnx", precision="fp32")(crops), DffRunner(engine="torch")(crops)
    assert a.shape == (2, 128, 128, 32)
    np.testing.assert_allclose(a, b, atol=1e-4)


def test_the_shipped_onnx_runs_without_importing_torch():
    code = ("import sys, numpy as np\nfrom dffkit.dff.runner import DffRunner\nr = DffRunner(engine='onnx')\n"
            "r(np.zeros((1, 128, 128, 3), np.uint8))\nprint('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr


def test_other_weights_run_through_onnx_too(trained):
    from dffkit.dff.runner import DffRunner

    net = load_weights(trained[1])
    crops = np.random.default_rng(1).integers(0, 256, (1, 64, 64, 3), dtype=np.uint8)
    run = DffRunner(net)
    assert run.engine == "onnx" and run.config.name == "tiny"
    np.testing.assert_allclose(run(crops), DffRunner(net, engine="torch")(crops), atol=1e-4)


STUDENT = NetConfig(name="tiny-student", size=64, widths=(4, 8, 12), n_segmentations=8, n_patches=50, batch_size=4,
                    lr=1e-2, steps=60)


def test_distilling_brings_the_student_to_the_teacher(trained, tiny_data, tmp_path):
    import csv

    from dffkit.dff.distill import agreement, distill

    _, teacher = trained
    from dffkit.dff.batches import DatasetUnion

    val = DatasetUnion([SynthDataset(tiny_data / "val")])
    torch.manual_seed(0)
    before = agreement(UNet(STUDENT), load_weights(teacher), val, side=32)["mean_cos"]
    weights = distill(tiny_data / "train", tmp_path, STUDENT, teacher=teacher, side=32, steps=60,
                      val_data=tiny_data / "val", progress=False)
    doc = torch.load(weights, weights_only=True)
    after = doc["meta"]["val_agreement"]["mean_cos"]
    assert doc["config"]["widths"] == [4, 8, 12] and doc["meta"]["side"] == 32
    assert after > before + 0.2, (before, after)  # held-out images: the student gives the teacher's descriptors
    rows = list(csv.DictReader(open(tmp_path / "log.csv")))
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    net = load_weights(weights)  # a weights file like any other: it loads, and runs through the runner
    assert net.config.name == "tiny-student"


def test_distilling_resumes_and_refuses_another_side(trained, tiny_data, tmp_path):
    from dffkit.dff.distill import distill

    _, teacher = trained
    distill(tiny_data / "train", tmp_path, STUDENT, teacher=teacher, side=32, steps=6, ckpt_every=3, progress=False)
    with pytest.raises(DffkitError, match="already holds a checkpoint"):
        distill(tiny_data / "train", tmp_path, STUDENT, teacher=teacher, side=32, steps=8, progress=False)
    with pytest.raises(DffkitError, match="another teacher or side"):
        distill(tiny_data / "train", tmp_path, STUDENT, teacher=teacher, side=48, steps=8, resume=True, progress=False)
    distill(tiny_data / "train", tmp_path, STUDENT, teacher=teacher, side=32, steps=9, resume=True, progress=False)
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 9
    with pytest.raises(DffkitError, match="multiple of 4"):
        distill(tiny_data / "train", tmp_path / "b", STUDENT, teacher=teacher, side=30, steps=2, progress=False)
