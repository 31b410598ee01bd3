"""Stage checkpoints of a cascade's training, so that a killed run resumes at the stage it had reached.

After each learned stage, the stages so far, their records and every instance's moved state (camera vector
and shape parameters in 3D, current points and updates in 2D) are written atomically beside the output, as
a ``.npz`` of plain arrays (read without pickles, as every file dffkit reads). A
new run with the same configuration (its ``key``: every setting that changes the instances) restores them and
learns only the stages left; a checkpoint of another configuration is refused, never silently reused.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from dffkit.atomic import atomic_write, npz_bytes
from dffkit.errors import DffkitError
from dffkit.face.camera import Camera

__all__ = ["StageCheckpoint"]


class StageCheckpoint:
    """The checkpoint file of one training run.

    Args:
        path: where it is written (``.npz``; removed by :meth:`done`).
        config: the run's settings; a checkpoint written under other settings is refused.

    Example:
        >>> import tempfile
        >>> ck = StageCheckpoint(Path(tempfile.mkdtemp()) / "stages.npz", {"n": 3})
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
            with np.load(self.path, allow_pickle=False) as z:
                saved = {k: z[k] for k in z.files}
            head = json.loads(str(saved["head"]))
        except Exception as exc:
            raise DffkitError(f"{self.path} is not a readable stage checkpoint ({exc}); delete it to start over") from None
        if head["key"] != self.key or head["instances"] != len(inst):
            raise DffkitError(f"{self.path} was written by a training run of another configuration; delete it to "
                              "start over, or choose another --out")
        for j, i in enumerate(inst):
            if i.state is not None:
                i.state.camera, i.state.p = Camera.from_vector(saved["w"][j]), saved["p"][j]
            i.x, i.updates = saved["x"][j], list(saved["updates"][j])
        return [saved[f"stage{k}"] for k in range(head["stages"])], head["records"]

    def save(self, inst: list, stages: list[np.ndarray], records: list[dict]) -> None:
        """Write the stages learned so far and every instance's state (atomically)."""
        three_d = inst[0].state is not None
        arrays = {f"stage{k}": w for k, w in enumerate(stages)}
        arrays.update(head=np.array(json.dumps({"key": self.key, "instances": len(inst), "stages": len(stages),
                                                "records": records})),
                      x=np.stack([i.x for i in inst]),
                      updates=np.stack([np.reshape(i.updates, (len(i.updates), *i.x.shape)) for i in inst]))
        if three_d:
            arrays.update(w=np.stack([i.state.camera.to_vector() for i in inst]), p=np.stack([i.state.p for i in inst]))
        atomic_write(self.path, npz_bytes(arrays))

    def done(self) -> None:
        """Remove the checkpoint once the regressors are saved."""
        self.path.unlink(missing_ok=True)
