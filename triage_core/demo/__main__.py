"""``python -m triage_core.demo OUT_DIR [--tickets N] [--seed S] [--customers C]``."""

from triage_core.demo import main

if __name__ == "__main__":
    raise SystemExit(main())
