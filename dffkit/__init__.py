"""dffkit: Deep Face Feature for face alignment, reproduced.

Public API (more in each module):
    FaceModel, load_default_model   the linear 3D morphable model (dffkit.model)
    Camera, project                  the weak-perspective camera (dffkit.camera)
    Renderer, Rendering              z-buffer rendering with triangle-id and barycentric maps (dffkit.render)
    features(image, box=None)        the DFF descriptor map of a face (dffkit.features)
    align(image, box=None)           large-pose 68-point alignment, 3D shape and pose (dffkit.align)
"""

from dffkit.camera import Camera, project, rotation_matrix
from dffkit.errors import DffkitError
from dffkit.model import FaceModel, load_default_model

__version__ = "0.1.0"

__all__ = ["Camera", "DffkitError", "FaceModel", "Renderer", "Rendering", "align", "features", "load_default_model", "project",
           "rotation_matrix", "__version__"]


def __getattr__(name: str):
    # The renderer pulls in OpenGL; import it only when asked for.
    if name in ("Renderer", "Rendering"):
        from dffkit import render

        return getattr(render, name)
    if name in ("features", "align"):  # callable modules: dffkit.features(image), dffkit.align(image)
        import importlib

        return importlib.import_module(f"dffkit.{name}")
    raise AttributeError(f"module 'dffkit' has no attribute {name!r}")
