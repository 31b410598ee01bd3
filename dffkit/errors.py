"""The one exception type dffkit raises for bad input.

Every message is one line that names the problem and the fix, so that the CLI can print it as it is
and exit with status 2.
"""

from __future__ import annotations


class DffkitError(ValueError):
    """Bad input to a dffkit function or command: the message names the problem and the fix."""
