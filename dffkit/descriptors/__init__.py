"""Per-point face descriptors behind one interface (:mod:`dffkit.descriptors.base`): DFF and SIFT.

:data:`DESCRIPTORS` names every descriptor; :func:`make_descriptor` builds one by name. The classes are
imported when asked for, so that naming them costs nothing.

Adding a descriptor: one module with a :class:`Descriptor` subclass, and one line
``DESCRIPTORS.register("name", "module:Class")``; the command line (``match --method``, ``train-align
--kind``), the alignment cascade, its learner and the evaluations then take it by name.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dffkit.registry import Registry

if TYPE_CHECKING:
    from dffkit.descriptors.base import Descriptor

__all__ = ["DESCRIPTORS", "DescribedFace", "Descriptor", "FaceDescription", "make_descriptor", "unit_rows"]

#: name -> the :class:`Descriptor` subclass ("module:class", imported on first use). This module imports
#: nothing heavy, so that the command line can list the names at once.
DESCRIPTORS: Registry[type[Descriptor]] = Registry("descriptor")
DESCRIPTORS.register("dff", "dffkit.descriptors.dff:DffDescriptor")
DESCRIPTORS.register("sift", "dffkit.descriptors.sift:SiftDescriptor")


def make_descriptor(name: str, size: int | None = None, net: Any = None, **options: Any) -> Descriptor:
    """The descriptor called ``name``.

    Args:
        name: a name of :data:`DESCRIPTORS`.
        size: the crop side, pixels, of a descriptor without a network of its own (default: the DFF
            network's input size, so that every descriptor describes the same crops).
        net: the DFF network or runner, for a descriptor that needs one (None: the shipped weights).
        options: the class's own options (:attr:`Descriptor.options`, e.g. SIFT's ``keypoint_size``).

    Example:
        >>> d = make_descriptor("sift", size=64)
        >>> d.name, d.size, d.dim, d.options
        ('sift', 64, 128, {'keypoint_size': 8.0})
    """
    kind = DESCRIPTORS.get(name)
    if kind.needs_network:
        return kind(net=net, **options)
    if size is None:
        from dffkit.dff.features import as_runner

        size = as_runner(net).size
    return kind(size=size, **options)


def __getattr__(name: str) -> Any:
    # the interface is imported when asked for (it pulls in OpenCV)
    if name in ("DescribedFace", "Descriptor", "FaceDescription", "unit_rows"):
        from dffkit.descriptors import base

        return getattr(base, name)
    raise AttributeError(f"module 'dffkit.descriptors' has no attribute {name!r}")
