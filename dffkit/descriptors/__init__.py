"""Per-point face descriptors behind one interface (:mod:`dffkit.descriptors.base`): DFF and SIFT.

:data:`DESCRIPTORS` names every descriptor; :func:`make_descriptor` builds one by name. The classes are
imported when asked for, so that naming them costs nothing.
"""

from __future__ import annotations

import importlib

from dffkit.descriptors.base import Descriptor
from dffkit.errors import DffkitError

__all__ = ["DESCRIPTORS", "Descriptor", "make_descriptor"]

#: name -> "module:class" of every descriptor.
DESCRIPTORS: dict[str, str] = {
    "dff": "dffkit.descriptors.dff:DffDescriptor",
    "sift": "dffkit.descriptors.sift:SiftDescriptor",
}


def make_descriptor(name: str, size: int | None = None, net=None, **options) -> Descriptor:
    """The descriptor called ``name``.

    Args:
        name: a key of :data:`DESCRIPTORS`.
        size: the crop side (descriptors without a network of their own; default: the DFF network's).
        net: the DFF network or runner (for 'dff'; None loads the shipped weights).
        options: further arguments of the descriptor's class (e.g. SIFT's ``keypoint_size``).
    """
    if name not in DESCRIPTORS:
        raise DffkitError(f"unknown descriptor {name!r}; choose one of {', '.join(sorted(DESCRIPTORS))}")
    module, cls = DESCRIPTORS[name].split(":")
    kind = getattr(importlib.import_module(module), cls)
    if name == "dff":
        return kind(net, **options)
    if size is None:
        from dffkit.dff.features import as_runner

        size = as_runner(net).size
    return kind(size, **options)
