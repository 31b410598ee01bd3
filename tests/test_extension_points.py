"""Each extension point is one class plus one registry line: a toy descriptor, protocol and detector, defined
and registered here, run through the command line like the built-in ones."""

from __future__ import annotations

import json
from typing import Any, ClassVar

import numpy as np
import pytest

from dffkit.boxes import landmark_box
from dffkit.cli import main
from dffkit.data.photos import default_images, list_images, read_landmarks
from dffkit.descriptors import DESCRIPTORS
from dffkit.descriptors.base import Descriptor, unit_rows
from dffkit.detect import DETECTORS
from dffkit.detect.base import Detections, FaceDetector
from dffkit.evaluation import PROTOCOLS
from dffkit.evaluation.protocols import W300Protocol


class PatchDescriptor(Descriptor):
    """A toy descriptor: the grey 5×5 patch around a point, mean-removed and unit length."""

    name: ClassVar[str] = "toy-patch"
    dim = 25

    def __init__(self, size: int, radius: int = 2) -> None:
        self.size, self.radius = int(size), int(radius)

    @property
    def options(self) -> dict[str, Any]:
        return {"radius": self.radius}

    def prepare_batch(self, crops: np.ndarray, compact: bool = False) -> list[Any]:
        grey = np.asarray(crops, np.float32).mean(-1)
        return [np.pad(g, self.radius, mode="edge") for g in grey]

    def sample(self, prepared: Any, points: np.ndarray) -> np.ndarray:
        r = self.radius
        ij = np.clip(np.rint(points).astype(int), 0, self.size - 1) + r
        patches = np.stack([prepared[y - r:y + r + 1, x - r:x + r + 1].ravel() for x, y in ij]) if len(ij) else \
            np.zeros((0, (2 * r + 1) ** 2), np.float32)
        return unit_rows(patches - patches.mean(1, keepdims=True))


class CentreDetector(FaceDetector):
    """A toy detector: one face box in the middle of every image, calibrated to be the landmark box itself."""

    name: ClassVar[str] = "toy-centre"
    box_calibration = (0.0, 0.0, 1.0)

    def detect(self, image: np.ndarray) -> Detections:
        h, w = image.shape[:2]
        return Detections.of(np.array([[0.2 * w, 0.2 * h, 0.8 * w, 0.8 * h]]), np.array([0.9]))


class EyesProtocol(W300Protocol):
    """A toy protocol: 300-W's annotation, scored on the 12 eye points only."""

    name = "toy-eyes"
    points = np.arange(36, 48)


@pytest.fixture()
def registered():
    DESCRIPTORS.register("toy-patch", PatchDescriptor)
    DETECTORS.register("toy-centre", CentreDetector)
    PROTOCOLS.register("toy-eyes", EyesProtocol())
    yield
    for registry, name in ((DESCRIPTORS, "toy-patch"), (DETECTORS, "toy-centre"), (PROTOCOLS, "toy-eyes")):
        registry.unregister(name)


def _faces(n: int = 2):
    return list_images(default_images(), split="test", require_landmarks=True)[:n]


def _run(capsys, *argv: str) -> dict:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def test_a_registered_descriptor_matches_through_the_cli(registered, capsys):
    a, b = _faces()
    box = ",".join(f"{v:.1f}" for v in landmark_box(read_landmarks(a.landmarks)))
    doc = _run(capsys, "match", str(a.image), str(a.image), "--method", "toy-patch", "--dense", "--stride", "4",
               "--landmark-box-a", box, "--landmark-box-b", box, "--json")
    assert doc["method"] == "toy-patch dense" and doc["valid"] > 0
    m = np.array(doc["matches"])
    assert np.median(np.linalg.norm(m[:, :2] - m[:, 2:4], axis=1)) < 2.0  # an image matched to itself


def test_a_registered_descriptor_drives_the_cascade_through_the_cli(registered, capsys, tmp_path, model):
    from dffkit.alignment.learn import train_regressors
    from dffkit.data.synth import example_samples

    reg = train_regressors(model, example_samples(4, size=96), descriptor="toy-patch", size=64, n_stages=1,
                           n_init=1, descriptor_options={"radius": 3}, progress=False)
    path = reg.save(tmp_path / "align_toy.npz")
    face = _faces(1)[0]
    box = ",".join(f"{v:.1f}" for v in landmark_box(read_landmarks(face.landmarks)))
    doc = _run(capsys, "align", str(face.image), "--regressors", str(path), "--descriptor", "toy-patch",
               "--landmark-box", box, "--json")
    assert len(doc["faces"]) == 1 and len(doc["faces"][0]["landmarks68"]) == 68
    from dffkit.alignment.regressors import Regressors

    assert Regressors.load(path).descriptor_options == {"radius": 3}  # the cascade rebuilds it as trained


def test_a_registered_detector_finds_faces_through_the_cli(registered, capsys):
    face = _faces(1)[0]
    doc = _run(capsys, "align", str(face.image), "--detector", "toy-centre", "--json")
    (found,) = doc["faces"]
    assert found["score"] == pytest.approx(0.9) and found["face_box"] == found["landmark_box"]


def test_a_registered_protocol_evaluates_through_the_cli(registered, capsys):
    doc = _run(capsys, "eval", "toy-eyes", "--root", str(default_images()), "--method", "mean", "--limit", "3", "--json")
    w = doc["mean"]["w300"]
    assert w["faces"] == 3 and 0.0 < w["nme_interpupil"] < 0.5


def test_unregistered_names_are_refused_with_the_choices(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["match", "a.png", "b.png", "--method", "toy-patch"])
    assert exc.value.code == 2 and "invalid choice" in capsys.readouterr().err
