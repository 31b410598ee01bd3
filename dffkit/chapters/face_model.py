"""Chapter 1, the face model and camera: the embedded model's size, renders of it, and the renderer's speed."""

from __future__ import annotations

import numpy as np

from dffkit.evaluation.results import ModelResults
from dffkit.evaluation.summaries import model_summary, render_speed
from dffkit.face.model import FaceModel
from dffkit.face.render import Renderer
from dffkit.viz import grid_figure, render_face

__all__ = ["measure", "views_figure", "identities_figure", "expressions_figure", "yaw_sweep_figure", "EXPRESSIONS"]

#: The expression blendshapes the chapter shows (a left one is shown with its right twin).
EXPRESSIONS = ("jawOpen", "mouthSmile_L", "eyeBlink_L", "browInnerUp_L", "mouthPucker", "cheekPuff_L")


def measure(model: FaceModel, renderer: Renderer, size: int, bench_frames: int, seed: int = 0) -> ModelResults:
    """The model's size and the renderer's milliseconds per ``size``² frame over ``bench_frames`` new faces."""
    return ModelResults(model_summary(model), render_speed(renderer, model, size, bench_frames, seed=seed))


def views_figure(model: FaceModel, renderer: Renderer, size: int):
    """The mean face at yaw 0°, 45° and 90°."""
    return grid_figure([render_face(renderer, model, size, yaw=np.radians(a)) for a in (0, 45, 90)], cols=3, width=9)


def identities_figure(model: FaceModel, renderer: Renderer, size: int, n: int, seed: int = 0):
    """``n`` random identities from the identity prior (seeded)."""
    rng = np.random.default_rng(seed)
    faces = [render_face(renderer, model, size, p_id=model.sample_identity(rng), yaw=0.3) for _ in range(n)]
    return grid_figure(faces, cols=min(n, 4), width=10)


def expressions_figure(model: FaceModel, renderer: Renderer, size: int):
    """Each blendshape of :data:`EXPRESSIONS` at full weight (both sides for a left one)."""
    images = []
    for name in EXPRESSIONS:
        p_exp = np.zeros(model.n_expression, np.float32)
        p_exp[model.expression_names.index(name)] = 1.0
        if name.endswith("_L"):
            p_exp[model.expression_names.index(name[:-2] + "_R")] = 1.0
        images.append(render_face(renderer, model, size, p_exp=p_exp, yaw=0.2))
    return grid_figure(images, cols=min(len(images), 4), width=10, titles=[n.replace("_L", "") for n in EXPRESSIONS])


def yaw_sweep_figure(model: FaceModel, renderer: Renderer, size: int, n_yaws: int):
    """The mean face from −90° to 90° of yaw with its 68 landmarks (green visible, red hidden)."""
    yaws = np.linspace(-90, 90, n_yaws)
    views = [render_face(renderer, model, size, yaw=np.radians(a), landmarks=True) for a in yaws]
    return grid_figure(views, cols=min(n_yaws, 4), width=10, titles=[f"yaw {a:+.0f}°" for a in yaws])
