"""``python -m trading``; see ``trading.cli`` for the commands and exit codes."""

import sys

from trading.cli import main

if __name__ == "__main__":
    sys.exit(main())
