"""``python -m sim``: the same as the ``balancing-sim`` command (see :mod:`sim.cli.main`)."""

import sys

from sim.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
