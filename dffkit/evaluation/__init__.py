"""Sec. IV, measured: benchmark protocols, the methods they compare, and the evaluations of every chapter,
each returning a typed :class:`dffkit.records.Record` (errors as fractions); tables are drawn from them by
:mod:`dffkit.evaluation.report`.

:data:`PROTOCOLS` and :data:`METHODS` name the benchmark protocols and the alignment methods. Adding a
protocol: a :class:`dffkit.evaluation.protocols.Protocol` subclass and one ``PROTOCOLS.register`` line; a
method: a factory ``(model, net, regressors) -> predict(image, landmark_box) -> (68, 2)`` and one
``METHODS.register`` line. This module imports nothing heavy, so that the command line lists them at once.
"""

from __future__ import annotations

from typing import Any

from dffkit.registry import Registry

__all__ = ["PROTOCOLS", "METHODS"]

#: name -> a :class:`dffkit.evaluation.protocols.Protocol` object.
PROTOCOLS: Registry[Any] = Registry("protocol")
for _name, _attr in (("aflw2000-3d", "AFLW2000_3D"), ("aflw", "AFLW"), ("300w", "W300"), ("300w-inner", "W300_INNER"),
                     ("aflw2000-3d-inner", "AFLW2000_3D_INNER")):
    PROTOCOLS.register(_name, f"dffkit.evaluation.protocols:{_attr}")

#: name -> a factory of ``predict(image, landmark_box) -> (68, 2)`` (:mod:`dffkit.evaluation.methods`).
METHODS: Registry[Any] = Registry("method")
for _name in ("dff", "sift", "sdm", "mean", "dlib", "dlib-detector", "dlib-landmark-box"):
    METHODS.register(_name, f"dffkit.evaluation.methods:{_name.replace('-', '_')}")
