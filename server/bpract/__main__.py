"""``python -m bpract``: the command line."""

from __future__ import annotations

import sys

from bpract.cli import main

if __name__ == "__main__":
    sys.exit(main())
