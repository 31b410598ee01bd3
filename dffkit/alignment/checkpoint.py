"""Stage checkpoints of a cascade's training, so that a killed run resumes at the stage it had reached.

After each learned stage, the stages so far, their records and every instance's moved state (camera vector
and shape parameters in 3D, current points and updates in 2D) are written atomically beside the output. A
new run with the same configuration (its ``key``: every setting that changes the instances) restores them and
learns only the stages left; a checkpoint of another configuration is refused, never silently reused.
"""

from __future__ import annotations

import hashlib
import json
import pickle
from pathlib import Path
from typing import Any

import numpy as np

from dffkit.atomic import atomic_write
from dffkit.errors import DffkitError
from dffkit.face.camera import Camera

__all__ = ["StageCheckpoint"]


class StageCheckpoint:
    """The checkpoint file of one training run.

    Args:
        path: where it is written (``.pkl``; removed by :meth:`done`).
        config: the run's settings; a checkpoint written under other settings is refused.

    Example:
        >>> import tempfile
        >>> ck = StageCheckpoint(Path(tempfile.mkdtemp()) / "stages.pkl", {"n": 3})
        >>> ck.restore([])
        ([], [])
    """

    def __init__(self, path: str | Path, config: dict[str, Any]) -> None:
        self.path = Path(path)
        self.key = hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def restore(self, inst: list) -> tuple[list[np.ndarray], list[dict]]:
        """The stages and records saved so far (empty when there is no checkpoint), with ``inst`` moved in place
        to where those stages left them."""
        if not self.path.exists():
            return [], []
        try:
            saved = pickle.loads(self.path.read_bytes())
        except Exception as exc:
            raise DffkitError(f"{self.path} is not a readable stage checkpoint ({exc}); delete it to start over") from None
        if saved.get("key") != self.key or len(saved["states"]) != len(inst):
            raise DffkitError(f"{self.path} was written by a training run of another configuration; delete it to "
                              "start over, or choose another --out")
        for i, (w, p, x, updates) in zip(inst, saved["states"]):
            if w is not None:
                i.state.camera, i.state.p = Camera.from_vector(w), p
            i.x, i.updates = x, list(updates)
        return list(saved["stages"]), list(saved["records"])

    def save(self, inst: list, stages: list[np.ndarray], records: list[dict]) -> None:
        """Write the stages learned so far and every instance's state (atomically)."""
        states = [(None if i.state is None else i.state.camera.to_vector(), None if i.state is None else i.state.p,
                   i.x, i.updates) for i in inst]
        atomic_write(self.path, pickle.dumps({"key": self.key, "stages": stages, "records": records,
                                              "states": states}, protocol=pickle.HIGHEST_PROTOCOL))

    def done(self) -> None:
        """Remove the checkpoint once the regressors are saved."""
        self.path.unlink(missing_ok=True)
