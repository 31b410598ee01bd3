"""The exception types dffkit raises for bad input.

Every message is one line that names the problem and the fix, so that the CLI can print it as it is
and exit with status 2.
"""

from __future__ import annotations

__all__ = ["DffkitError", "NoFaceError"]


class DffkitError(ValueError):
    """Bad input to a dffkit function or command: the message names the problem and the fix."""


class NoFaceError(DffkitError):
    """No face was found where one was looked for (the detector found none, or none passed its check).

    Example:
        >>> issubclass(NoFaceError, DffkitError)
        True
    """
