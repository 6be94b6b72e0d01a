"""Start Artstudio: the window, or a command with `python main.py COMMAND`."""

import sys

from artstudio.cli import main

if __name__ == "__main__":
    sys.exit(main())
