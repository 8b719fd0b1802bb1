"""``python -m minislim``: the same as the ``minislim`` command."""
import sys

from minislim.cli import main

sys.exit(main())
