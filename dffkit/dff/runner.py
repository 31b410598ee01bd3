"""The DFF network at inference, through ONNX Runtime or torch.

:class:`DffRunner` maps (B, S, S, 3) uint8 face crops to (B, S, S, dim) unit descriptors. Its engines:

* ``onnx``: ONNX Runtime. The shipped weights come with their ONNX export (``dffkit/assets/dff_cpu.onnx``,
  which records the config and the SHA-256 of the ``.pt`` it was exported from), so they run without
  importing torch; other weights are exported once, in memory, when the runner is made.
* ``torch``: the network itself (what training uses).
* ``auto`` (the default): ``onnx`` where onnxruntime is installed, else ``torch``.

The two agree to within 1e-4 per descriptor component (``tests/test_net.py``).

The shipped weights also ship as an int8 model (``dffkit/assets/dff_cpu_int8.onnx``, static quantisation
calibrated on real face crops, :mod:`dffkit.dff.quantize`). ``precision`` picks one: 'fp32', 'int8', or
None for ``DFFKIT_PRECISION`` if set, else :data:`DEFAULT_PRECISION` (fp32). int8's landmarks lie inside fp32's
confidence interval on the real 300-W test split and on landmark transfer, but the alignment's face verdict,
calibrated on fp32 descriptors, lets more non-faces through with int8 (the model card,
``dffkit/assets/DFF_CPU_MODEL_CARD.md``), so fp32 stays the default. Where int8 cannot run (other weights, the
torch engine) and it was not asked for by argument, the runner takes fp32.
"""

from __future__ import annotations

import hashlib
import io
import json
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from dffkit.dff.config import NetConfig
from dffkit.errors import DffkitError
from dffkit.threads import onnx_threads

if TYPE_CHECKING:
    from dffkit.dff.net import UNet

__all__ = ["DffRunner", "ENGINES", "PRECISIONS", "DEFAULT_PRECISION", "PRECISION_ENV", "resolve_precision",
           "shipped_onnx_path", "export_onnx", "onnx_bytes"]

ENGINES = ("auto", "onnx", "torch")
PRECISIONS = ("fp32", "int8")
DEFAULT_PRECISION = "fp32"
PRECISION_ENV = "DFFKIT_PRECISION"


def resolve_precision(value: str | None = None) -> str:
    """The network's precision: ``value``, else ``DFFKIT_PRECISION``, else :data:`DEFAULT_PRECISION`.

    Example:
        >>> resolve_precision("int8"), resolve_precision() in PRECISIONS
        ('int8', True)
    """
    import os

    p = value or os.environ.get(PRECISION_ENV, "").strip() or DEFAULT_PRECISION
    if p not in PRECISIONS:
        raise DffkitError(f"unknown precision {p!r}; choose one of {', '.join(PRECISIONS)}")
    return p


def shipped_onnx_path(precision: str = "fp32") -> Path:
    """The ONNX export of the shipped weights ('fp32'), or its int8 quantisation ('int8').

    Example:
        >>> shipped_onnx_path("int8").name
        'dff_cpu_int8.onnx'
    """
    name = "dff_cpu.onnx" if precision == "fp32" else f"dff_cpu_{precision}.onnx"
    return Path(str(resources.files("dffkit").joinpath(f"assets/{name}")))


def onnx_bytes(net: UNet, opset: int = 17, metadata: dict[str, str] | None = None) -> bytes:
    """The network as an ONNX model (input ``image``: (N, 3, H, W) float in [0, 1], H and W multiples of
    2**(depth-1); output ``descriptors``: (N, dim, H, W)), its config in the metadata."""
    import onnx
    import torch

    buf = io.BytesIO()
    x = torch.rand(1, 3, net.config.size, net.config.size)
    torch.onnx.export(net.eval(), (x,), buf, input_names=["image"], output_names=["descriptors"],
                      dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"},
                                    "descriptors": {0: "batch", 2: "height", 3: "width"}}, opset_version=opset,
                      dynamo=False)
    model = onnx.load_from_string(buf.getvalue())
    for key, value in {"dffkit_config": json.dumps(net.config.to_dict()), **(metadata or {})}.items():
        onnx.helper.set_model_props(model, {**{p.key: p.value for p in model.metadata_props}, key: value})
    return model.SerializeToString()


def export_onnx(net: UNet, path: str | Path, opset: int = 17, metadata: dict[str, str] | None = None) -> Path:
    """Write :func:`onnx_bytes` to ``path`` atomically."""
    from dffkit.atomic import atomic_write

    return atomic_write(Path(path), onnx_bytes(net, opset, metadata))


def _onnxruntime():
    try:
        import onnxruntime
    except ImportError:
        return None
    return onnxruntime


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class DffRunner:
    """The DFF network at inference: (B, S, S, 3) uint8 crops in, (B, S, S, dim) unit descriptors out.

    Args:
        net: a network from :func:`dffkit.dff.weights.load_weights`; None: the shipped weights.
        engine: 'auto', 'onnx' or 'torch' (see the module docstring).
        threads: ONNX Runtime's threads (None: :func:`dffkit.threads.onnx_threads`: one in a pool worker,
            else ``DFFKIT_ONNX_THREADS`` or one per core).
        precision: 'fp32' or 'int8' (the shipped weights' quantised model; ONNX Runtime only), None for
            :func:`resolve_precision`'s choice (fp32 where int8 cannot run: other weights, the torch engine, no
            onnxruntime).

    Example:
        >>> from dffkit.dff.net import UNet, get_config
        >>> run = DffRunner(UNet(get_config("tiny")).eval(), engine="torch")
        >>> run(np.zeros((1, 64, 64, 3), np.uint8)).shape
        (1, 64, 64, 32)
    """

    def __init__(self, net: UNet | None = None, engine: str = "auto", threads: int | None = None,
                 precision: str | None = None) -> None:
        if engine not in ENGINES:
            raise DffkitError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
        ort = _onnxruntime() if engine != "torch" else None
        self.precision = resolve_precision(precision)
        if precision is None and (net is not None or ort is None):
            self.precision = "fp32"  # what the environment asked for cannot run here
        if self.precision == "int8" and (net is not None or engine == "torch"):
            raise DffkitError("int8 runs the shipped weights through ONNX Runtime; for other weights quantise them "
                              "with tools/quantize_dff.py, or use precision 'fp32'")
        if (engine == "onnx" or self.precision == "int8") and ort is None:
            raise DffkitError("engine 'onnx' needs onnxruntime; pip install onnxruntime, or use engine 'torch'")
        self.net, self.session = None, None
        if ort is not None:
            opts = ort.SessionOptions()
            threads = threads if threads is not None else onnx_threads()
            if threads is not None:
                opts.intra_op_num_threads = threads
            opts.log_severity_level = 3
            # No busy-waiting between runs: spinning ONNX Runtime threads starve numpy's BLAS threads in the
            # cascade around each call (measured on 2 cores: 16-28 ms per face with spinning, 12 without).
            opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
            if net is None and shipped_onnx_path(self.precision).is_file():
                model = shipped_onnx_path(self.precision).read_bytes()
            elif self.precision == "int8":
                raise DffkitError(f"{shipped_onnx_path('int8')} is missing; reinstall dffkit, or use precision 'fp32'")
            else:
                from dffkit.dff.weights import load_weights

                model = onnx_bytes(net if net is not None else load_weights())
            self.session = ort.InferenceSession(model, opts, providers=["CPUExecutionProvider"])
            meta = self.session.get_modelmeta().custom_metadata_map
            self.config = NetConfig.from_dict(json.loads(meta["dffkit_config"]))
            self.engine = "onnx"
        else:
            from dffkit.dff.weights import load_weights

            self.net = (net if net is not None else load_weights()).eval()
            self.config = self.net.config
            self.engine = "torch"

    @property
    def size(self) -> int:
        """The input side the network was trained at, pixels."""
        return self.config.size

    @property
    def dim(self) -> int:
        """The descriptor dimension."""
        return self.config.dim

    def __call__(self, crops: np.ndarray) -> np.ndarray:
        """(B, S, S, 3) uint8 crops -> (B, S, S, dim) float32 unit descriptors: a channels-last view of the
        network's channel-first output (not a copy: readers that gather points never pay for a transpose)."""
        x = np.ascontiguousarray(np.asarray(crops).transpose(0, 3, 1, 2), np.float32) / np.float32(255.0)
        if self.session is not None:
            out = self.session.run(None, {"image": x})[0]
        else:
            import torch

            with torch.no_grad():
                out = self.net(torch.from_numpy(x)).numpy()
        return np.asarray(out, np.float32).transpose(0, 2, 3, 1)

