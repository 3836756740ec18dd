"""`python -m triage_core.cli`: the same as the `triage` command."""

import sys

from triage_core.cli import main

sys.exit(main())
