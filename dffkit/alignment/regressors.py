"""The alignment regressors and their file format (``align_*.npz``).

A file is a compressed ``.npz``, read with ``allow_pickle=False``: ``stage0`` ... (float16 ridge
weights), optionally ``pca_mean`` / ``pca_basis`` (a reduction of the descriptor to ``d`` dimensions per
point), and ``header``: UTF-8 JSON bytes with the format tag :data:`FORMAT`, the descriptor and its
options (:attr:`dffkit.descriptors.Descriptor.options`), the mode, the crop size, the shape-solve noise
and the training record. Files of the previous format (``dffkit-align-v1``, whose header kept SIFT's
keypoint size in a field of its own) are read too.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from dffkit.atomic import atomic_write, npz_bytes
from dffkit.errors import DffkitError

__all__ = ["Regressors", "shipped_regressors_path", "yaw_factors", "FORMAT", "KINDS"]

FORMAT = "dffkit-align-v2"
_READS = ("dffkit-align-v1", FORMAT)
#: The kinds of regressor file shipped with dffkit: the 3D cascade on each descriptor, and the 2D SDM
#: mode (on DFF). A kind is the descriptor's name, or 'sdm' for the 2D mode.
KINDS = ("dff", "sift", "sdm")
MODES = ("3d", "sdm")


def shipped_regressors_path(kind: str = "dff") -> Path:
    """The regressors shipped with dffkit for ``kind`` ('dff', 'sift' or 'sdm').

    Example:
        >>> shipped_regressors_path("sdm").name
        'align_sdm.npz'
    """
    if kind not in KINDS:
        raise DffkitError(f"no regressors of kind {kind!r} ship with dffkit (they ship for {', '.join(KINDS)}); "
                          "learn them with 'dffkit train-align' and pass the file")
    return Path(str(resources.files("dffkit").joinpath(f"assets/align_{kind}.npz")))


def yaw_factors(table: dict, yaw_deg: float) -> np.ndarray:
    """(2,) width and height scales at ``yaw_deg`` degrees from a restart table by |yaw| (``yaw_deg``, ``width``,
    ``height``: (B,) bin centres and scales), interpolated between the centres; a NaN yaw counts as frontal.

    Example:
        >>> yaw_factors({"yaw_deg": [15, 75], "width": [1.0, 1.2], "height": [1.0, 1.0]}, -45.0).round(2).tolist()
        [1.1, 1.0]
    """
    y = abs(float(yaw_deg)) if np.isfinite(yaw_deg) else 0.0
    return np.array([np.interp(y, table["yaw_deg"], table["width"]), np.interp(y, table["yaw_deg"], table["height"])])


@dataclass
class Regressors:
    """Learned descent directions of every stage, and what is needed to use them.

    Attributes:
        descriptor: the descriptor at the points (a name of :data:`dffkit.descriptors.DESCRIPTORS`).
        descriptor_options: its options (:attr:`dffkit.descriptors.Descriptor.options`), so that the cascade
            rebuilds it as it was trained: ``make_descriptor(descriptor, size, net, **descriptor_options)``.
        size: crop side the features are computed at, pixels.
        stages: per stage, (D + 1, K) ridge weights (last row the bias) mapping the features F to the
            update: (ΔX (68·2), Δw (6)) in mode '3d', ΔX alone in mode 'sdm'.
        mode: '3d' (the paper's cascade: landmarks, camera and shape) or 'sdm' (2D only: features at
            the 68 current landmarks, which all count as visible).
        sigma: landmark noise of the shape solve, a share of the box size.
        pca_mean, pca_basis: (D0,), (D0, d) the reduction of each point's descriptor, or None.
        refine: {convention ('3d', '2d'): per stage, (68·d + 1, 136) ridge weights}: 2D refinement stages
            after the cascade, each moving the 68 points of one landmark convention by the descriptor at
            them (:mod:`dffkit.alignment.refine`); empty for none.
        uncertainty: {convention: (F + 1,) weights}: the per-point log error predicted from the points'
            features (:func:`dffkit.alignment.refine.point_uncertainty`); empty for none.
        verdict: the face verdict (:mod:`dffkit.alignment.verdict`): ``template`` (160, d) unit rows,
            ``weights`` (5,) and ``threshold``; empty for none.
        restart_scale: the box of an alignment's 68 landmarks, scaled by this about its centre, is the box a
            tracker restarts the cascade from on the next frame: the scale that makes a still face a fixed
            point (:func:`dffkit.alignment.learn.learn_restart_scale`; 1.0 when not learned).
        restart_by_yaw: the same per axis and by the alignment's |yaw|: ``yaw_deg`` (B,) bin centres, degrees,
            and ``width``, ``height`` (B,) scales, interpolated between the centres (:meth:`restart_factors`);
            empty: ``restart_scale`` on both axes at every yaw.
        meta: training record (data, samples, lambdas, machine, time).

    Example:
        >>> reg = Regressors.load()
        >>> reg.descriptor, reg.mode, reg.size, len(reg.stages), reg.stages[0].shape
        ('dff', '3d', 128, 4, (5121, 142))
    """

    descriptor: str
    size: int
    stages: list[np.ndarray]
    mode: str = "3d"
    sigma: float = 0.03
    descriptor_options: dict = field(default_factory=dict)
    pca_mean: np.ndarray | None = None
    pca_basis: np.ndarray | None = None
    refine: dict = field(default_factory=dict)
    uncertainty: dict = field(default_factory=dict)
    verdict: dict = field(default_factory=dict)
    restart_scale: float = 1.0
    restart_by_yaw: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)

    def restart_factors(self, yaw_deg: float) -> np.ndarray:
        """(2,) the scales of a landmark box's width and height that give the box a tracker restarts from, for
        an alignment at ``yaw_deg`` degrees (:attr:`restart_by_yaw`, else :attr:`restart_scale` on both).

        Example:
            >>> reg = Regressors("dff", 128, [], restart_by_yaw={"yaw_deg": [15, 75], "width": [1.0, 1.2],
            ...                                                   "height": [1.0, 1.0]})
            >>> reg.restart_factors(-45.0).round(2).tolist(), reg.restart_factors(90.0).round(2).tolist()
            ([1.1, 1.0], [1.2, 1.0])
        """
        return yaw_factors(self.restart_by_yaw, yaw_deg) if self.restart_by_yaw else np.full(2, self.restart_scale)

    @property
    def kind(self) -> str:
        """'sdm' for the 2D mode, else the descriptor's name.

        Example:
            >>> Regressors.load(descriptor="sdm").kind
            'sdm'
        """
        return "sdm" if self.mode == "sdm" else self.descriptor

    def cascade_only(self) -> Regressors:
        """These regressors without their 2D refinement and its uncertainty: the cascade a refinement is learned on.

        Example:
            >>> Regressors.load().cascade_only().refine
            {}
        """
        return dataclasses.replace(self, refine={}, uncertainty={})

    def reduce(self, d: np.ndarray) -> np.ndarray:
        """Apply the per-point reduction (if any): (N, D0) -> (N, d) float32.

        Example:
            >>> reg = Regressors.load(descriptor="sift")
            >>> reg.reduce(np.zeros((5, 128))).shape
            (5, 32)
        """
        if self.pca_basis is None:
            return np.asarray(d, np.float32)
        return ((d - self.pca_mean) @ self.pca_basis).astype(np.float32)

    def save(self, path: str | Path) -> Path:
        """Write an ``.npz`` (float16 weights) atomically.

        Example:
            >>> import tempfile
            >>> reg = Regressors.load()
            >>> with tempfile.TemporaryDirectory() as d:
            ...     again = Regressors.load(reg.save(Path(d) / "align_dff.npz"))
            >>> again.descriptor, len(again.stages) == len(reg.stages)
            ('dff', True)
        """
        arrays = {f"stage{k}": s.astype(np.float16) for k, s in enumerate(self.stages)}
        if self.pca_basis is not None:
            arrays.update(pca_mean=self.pca_mean.astype(np.float32), pca_basis=self.pca_basis.astype(np.float32))
        for conv, stages in self.refine.items():
            arrays.update({f"refine_{conv}_{k}": s.astype(np.float16) for k, s in enumerate(stages)})
        arrays.update({f"uncertainty_{conv}": w.astype(np.float32) for conv, w in self.uncertainty.items()})
        if self.verdict:
            arrays.update(verdict_template=np.asarray(self.verdict["template"], np.float32),
                          verdict_weights=np.asarray(self.verdict["weights"], np.float64))
        head = {"format": FORMAT, "descriptor": self.descriptor, "descriptor_options": self.descriptor_options,
                "mode": self.mode, "size": self.size, "n_stages": len(self.stages), "sigma": self.sigma,
                "n_refine": {conv: len(s) for conv, s in self.refine.items()},
                "uncertainty": sorted(self.uncertainty),
                "verdict_threshold": float(self.verdict["threshold"]) if self.verdict else None,
                "restart_scale": self.restart_scale, "restart_by_yaw": self.restart_by_yaw, "meta": self.meta}
        arrays["header"] = np.frombuffer(json.dumps(head).encode(), np.uint8)
        return atomic_write(Path(path), npz_bytes(arrays))

    @classmethod
    def load(cls, path: str | Path | None = None, descriptor: str | None = None) -> Regressors:
        """Read regressors.

        Args:
            path: a file from :meth:`save`; None reads the shipped ones for ``descriptor``.
            descriptor: the kind, 'dff', 'sift' or 'sdm' (None: 'dff', or whatever ``path`` holds). With a
                path, a file of another kind is refused rather than run with the wrong descriptors.

        Raises:
            DffkitError: a missing, unreadable or pickled file, another format, or another kind.

        Example:
            >>> reg = Regressors.load(descriptor="sift")
            >>> reg.descriptor, reg.mode, reg.descriptor_options
            ('sift', '3d', {'keypoint_size': 16.0})
        """
        p = shipped_regressors_path(descriptor or "dff") if path is None else Path(path)
        if not p.is_file():
            raise DffkitError(f"{p}: no such regressor file; train one with 'dffkit train-align'")
        try:
            with np.load(p, allow_pickle=False) as z:
                head = json.loads(bytes(z["header"]).decode())
                stages = [z[f"stage{k}"].astype(np.float32) for k in range(head["n_stages"])]
                pca = (z["pca_mean"], z["pca_basis"]) if "pca_basis" in z.files else (None, None)
                refine = {conv: [z[f"refine_{conv}_{k}"].astype(np.float32) for k in range(n)]
                          for conv, n in head.get("n_refine", {}).items()}
                uncertainty = {conv: z[f"uncertainty_{conv}"].astype(np.float32) for conv in head.get("uncertainty", [])}
                verdict = {"template": z["verdict_template"].astype(np.float32), "weights": z["verdict_weights"],
                           "threshold": float(head["verdict_threshold"])} if head.get("verdict_threshold") is not None else {}
        except Exception as exc:  # noqa: BLE001 - numpy, zipfile and json raise many types for a bad file
            raise DffkitError(f"{p} is not a readable dffkit regressor file ({exc.__class__.__name__}); "
                              "retrain it") from None
        if not isinstance(head, dict) or head.get("format") not in _READS:
            raise DffkitError(f"{p} has format {head.get('format') if isinstance(head, dict) else None!r}, this "
                              f"dffkit reads {' and '.join(map(repr, _READS))}; retrain it")
        kind = "sdm" if head.get("mode") == "sdm" else head["descriptor"]
        if descriptor is not None and descriptor != kind:
            raise DffkitError(f"{p} holds {kind!r} regressors, not {descriptor!r}; pass descriptor {kind!r} "
                              f"or regressors trained for {descriptor!r}")
        if head["format"] == "dffkit-align-v1":  # v1 kept the one option of its time, SIFT's keypoint size
            head["descriptor_options"] = {"keypoint_size": head["sift_size"]} if head["descriptor"] == "sift" else {}
        return cls(descriptor=head["descriptor"], size=head["size"], stages=stages, mode=head.get("mode", "3d"),
                   sigma=head["sigma"], descriptor_options=dict(head["descriptor_options"]), pca_mean=pca[0],
                   pca_basis=pca[1], refine=refine, uncertainty=uncertainty, verdict=verdict,
                   restart_scale=float(head.get("restart_scale", 1.0)),
                   restart_by_yaw=dict(head.get("restart_by_yaw") or {}), meta=head["meta"])
