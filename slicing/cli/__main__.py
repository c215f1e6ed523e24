"""``python -m slicing.cli``: the ``slicing`` command."""

import sys

from slicing.cli import main

if __name__ == "__main__":
    sys.exit(main())
