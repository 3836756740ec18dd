"""``python -m triage_core.cli``: the ``triage`` command."""

import sys

from triage_core.cli import main

if __name__ == "__main__":
    sys.exit(main())
