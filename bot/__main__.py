"""`python -m bot` is the `symmetry` command line."""

import sys

from bot.runtime.cli import main

sys.exit(main())
