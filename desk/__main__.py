"""`python -m desk ...`: the command line (desk.cli)."""

import sys

from desk.cli import main

if __name__ == "__main__":
    sys.exit(main())
