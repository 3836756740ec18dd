"""The README stays true: every column and every CLI verb is documented."""

from __future__ import annotations

import re
from pathlib import Path

from triage_core.cli import build_parser
from triage_core.schema import IMPORT_TABLES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_every_column_is_documented_with_its_type() -> None:
    for table in IMPORT_TABLES.values():
        assert f"### `{table.name}`" in README
        for col in table.columns:
            required = "yes" if col.required else "no"
            pattern = rf"\| `{col.name}` \| {col.type} \| {required} \|"
            assert re.search(pattern, README), f"{table.name}.{col.name} not documented"


def test_every_cli_verb_is_documented() -> None:
    parser = build_parser()
    verbs = next(a for a in parser._actions if a.dest == "verb").choices
    for verb in verbs:
        assert f"`triage {verb}" in README, f"verb {verb} missing from README"


def test_quick_start_commands() -> None:
    assert "make run" in README and "make test" in README
