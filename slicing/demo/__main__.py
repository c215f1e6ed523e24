"""``python -m slicing.demo``: see :mod:`slicing.demo.run`."""

import sys

from slicing.demo.run import main

main(sys.argv[1:])
