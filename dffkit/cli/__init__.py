"""The ``dffkit`` command line: the parser here, the commands in :mod:`dffkit.cli.commands`.

Every usage error prints one line ``dffkit CMD: error: ...`` on stderr and exits with status 2;
nothing half-written is left behind. Only the standard library is imported until a command runs, so
``dffkit --help`` and argument errors answer at once.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from dffkit.cli.parser import BOX_OPTIONS, build_parser

__all__ = ["main", "build_parser"]


def _join_negative_boxes(argv: Sequence[str]) -> list[str]:
    """``--box -20,-5,100,150`` as ``--box=-20,-5,100,150``: argparse would read the value as an option."""
    out: list[str] = []
    for a in argv:
        if out and out[-1] in BOX_OPTIONS and a[:1] == "-" and (a[1:2].isdigit() or a[1:2] == "."):
            out[-1] = f"{out[-1]}={a}"
        else:
            out.append(a)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``dffkit`` with ``argv`` (default: the process's arguments); returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(_join_negative_boxes(sys.argv[1:] if argv is None else argv))
    if args.command is None:
        parser.print_help()
        return 2
    from dffkit.errors import DffkitError

    if getattr(args, "precision", None):
        import os

        os.environ["DFFKIT_PRECISION"] = args.precision  # this process and the workers it starts
    try:
        return int(args.func(args))
    except DffkitError as exc:
        print(f"dffkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"dffkit {args.command}: interrupted", file=sys.stderr)
        return 130
