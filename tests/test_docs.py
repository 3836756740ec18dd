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


def test_license_and_notice_match_the_package() -> None:
    import tomllib

    root = Path(__file__).resolve().parent.parent
    project = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["license"] == "MIT"
    assert (root / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")
    notice = (root / "NOTICE").read_text(encoding="utf-8")
    assert "Apache License" in notice and "all-MiniLM-L6-v2" in notice
    assert set(project["license-files"]) == {"LICENSE", "NOTICE"}
    pins = [d for d in project["dependencies"] if d.lower().startswith("vadersentiment")]
    assert pins == ["vaderSentiment==3.3.2"]  # the exact engine reads its module constants
