"""``python -m dffkit.cli``: the ``dffkit`` command."""

import sys

from dffkit.cli import main

sys.exit(main())
