"""``python -m percepkit info`` and ``python -m percepkit fetch-weights NAME`` (see :mod:`percepkit.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
