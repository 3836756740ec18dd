"""The README stays true: every column, every CLI verb and every option of every verb is
documented."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click

from triage_core.cli import triage
from triage_core.schema import IMPORT_TABLES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
CLI_SECTION = README.split("## The `triage` command", 1)[1].split("\n## ", 1)[0]
# Options documented once for the whole section rather than in every verb's row.
SHARED = {"--db", "--config", "--help"}


def commands(group: click.Group = triage,
             path: str = "triage") -> Iterator[tuple[str, click.Command]]:
    """Every command of the tree with its full name, the root and groups included."""
    if group is triage:
        yield path, group
    for name, command in group.commands.items():
        yield f"{path} {name}", command
        if isinstance(command, click.Group):
            yield from commands(command, f"{path} {name}")


def usages(name: str) -> list[str]:
    """The code spans of the CLI section that show ``name`` with its arguments."""
    return [span for span in re.findall(r"`(triage [^`]*)`", CLI_SECTION)
            if span == name or span.startswith(name + " ")]


def test_every_column_is_documented_with_its_type() -> None:
    for table in IMPORT_TABLES.values():
        assert f"### `{table.name}`" in README
        for col in table.columns:
            required = "yes" if col.required else "no"
            pattern = rf"\| `{col.name}` \| {col.type} \| {required} \|"
            assert re.search(pattern, README), f"{table.name}.{col.name} not documented"


def test_every_cli_verb_and_option_is_documented() -> None:
    for name, command in commands():
        spans = usages(name)
        assert spans, f"`{name}` missing from the README's CLI section"
        for param in command.params:
            if not isinstance(param, click.Option):
                continue
            for opt in param.opts:
                if opt in SHARED:
                    continue
                assert any(re.search(rf"{opt}\b(?!-)", s) for s in spans), \
                    f"`{name} {opt}` missing from the README's CLI section"


def test_shared_options_are_documented() -> None:
    assert "Every verb takes `--db PATH`" in CLI_SECTION
    with_config = [name.removeprefix("triage ") for name, c in commands()
                   if any("--config" in p.opts for p in c.params if isinstance(p, click.Option))]
    sentence = CLI_SECTION.split("`--config FILE`", 1)[1].split("\n\n", 1)[0]
    for name in with_config:
        assert f"`{name}`" in sentence, f"README does not say that `{name}` takes --config"


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
