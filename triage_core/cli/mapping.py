"""``triage mapping``: import mappings for your own exports (suggest, show, save, list, delete)."""

from __future__ import annotations

import sys

import click

from triage_core.cli.common import (
    VerbGroup,
    db_option,
    existing_db,
    json_option,
    print_frame,
    warn,
)
from triage_core.paths import check_output_file
from triage_core.schema import IMPORT_TABLES


@click.group(
    "mapping", cls=VerbGroup, short_help="import mappings: suggest, show, save, list, delete",
    help="Import mappings say how a file's columns and values become ours: [columns] our_column"
    " = \"Their column\", [values.status] \"Their value\" = \"ours\", [defaults] column ="
    " \"constant\". Use one with 'triage import TABLE FILE --mapping MAP'.")
@db_option(expose=False)
def mapping_group() -> None:
    pass


def _or_memory(db: str) -> str:
    """``db``, or an empty database in memory when there is none yet: suggest and show work
    before the first import (from the file and the shipped presets) and create no file."""
    import os

    return db if os.path.exists(db) else ":memory:"


@mapping_group.command(
    "suggest", short_help="write a mapping guessed from a file, to edit",
    help="Guess a mapping for FILE (column names, and every value of a closed-set column that"
    " does not fit, listed to be mapped) and print it as TOML, or write it to --out.")
@db_option()
@click.argument("table", metavar="TABLE", type=click.Choice(list(IMPORT_TABLES)))
@click.argument("file", metavar="FILE")
@click.option("--mapping", "mapping_ref", default=None, metavar="MAP",
              help="start from this mapping (file or saved name) instead of guessing")
@click.option("--out", default=None, metavar="MAP.toml", help="write the mapping to this file")
def suggest_cmd(db: str, table: str, file: str, mapping_ref: str | None,
                out: str | None) -> None:
    from triage_core.store import Store
    from triage_core.store.inspect import inspect_file

    if out:  # before the work: never over the file, the mapping or the database
        check_output_file(out, "--out", (file, mapping_ref, db))
    with Store(_or_memory(db)) as store:
        report = inspect_file(store, table, file, mapping_ref)
    suggestion = report.suggestion()
    text = _commented(report, suggestion.to_toml())
    if out:
        with open(out, "w", encoding="utf-8") as fh:
            fh.write(text)
        print(f"wrote {out}: edit the [values] to ours, then 'triage import {table} {file}"
              f" --mapping {out}'", file=sys.stderr)
    else:
        sys.stdout.write(text)
    if report.missing:
        warn([f"no column of {file} was recognized as {', '.join(report.missing)} (required):"
              " add them to the mapping"])


def _commented(report: object, text: str) -> str:
    from triage_core.store.inspect import FileReport
    from triage_core.store.time_formats import advice

    assert isinstance(report, FileReport)
    spec = IMPORT_TABLES[report.table]
    head = [f"# mapping for {report.table}, guessed from a file with {report.rows:,}"
            f" row{'' if report.rows == 1 else 's'}",
            f"# the file's columns: {', '.join(report.columns)}",
            f"# our columns: {', '.join(spec.column_names)}"]
    if report.missing:
        head.append(f"# REQUIRED, not found: {', '.join(report.missing)}: add them under"
                    " [columns] (our_column = \"Their column\") or [defaults]")
    for col, why in report.passed_over.items():
        head.append(f"# {col}: {why}")
    for col, values in report.unmatched.items():
        allowed = ", ".join(spec.column(col).choices)
        head.append(f"# {col}: {len(values)} value(s) to map to one of {allowed}")
    for col, guess in report.formats.items():
        shown = " ".join(guess.example[:40].split())
        head.append(f"# {col}: {shown!r} is read by the format under [formats]; check it"
                    if guess.format else
                    f"# {col}: {shown!r} is not ISO 8601; {advice(col, guess)}")
    return "\n".join(head) + "\n" + text


@mapping_group.command("show", short_help="print a saved or shipped mapping as TOML",
                       help="Print the mapping NAME (saved, or a shipped preset) as TOML.")
@db_option()
@click.argument("name")
def show_cmd(db: str, name: str) -> None:
    from triage_core.store import Store, saved_mappings

    with Store(_or_memory(db)) as store:
        sys.stdout.write(saved_mappings.load(store, name).to_toml())


@mapping_group.command("save", short_help="save a mapping file in the database under a name",
                       help="Check the mapping file FILE and save it in the database as NAME, so"
                       " 'triage import ... --mapping NAME' and the Data page can use it.")
@db_option()
@click.argument("name")
@click.argument("file", metavar="FILE")
def save_cmd(db: str, name: str, file: str) -> None:
    from triage_core.store import Store, saved_mappings

    with Store(existing_db(db)) as store:
        mapping = saved_mappings.load(store, file)
        saved_mappings.save(store, name, mapping)
    print(f"saved mapping {name!r}")


@mapping_group.command("list", short_help="saved mappings and shipped presets",
                       help="Saved mappings and shipped presets.")
@db_option()
@json_option()
def list_cmd(db: str, as_json: bool) -> None:
    from triage_core.store import Store, saved_mappings

    with Store(existing_db(db)) as store:
        df = saved_mappings.listing(store)
    print_frame(df, as_json, ["name", "table", "kind", "updated_at"], "no mappings")


@mapping_group.command("delete", short_help="delete a saved mapping",
                       help="Delete the saved mapping NAME.")
@db_option()
@click.argument("name")
def delete_cmd(db: str, name: str) -> None:
    from triage_core.store import Store, saved_mappings

    with Store(existing_db(db)) as store:
        saved_mappings.delete(store, name)
    print(f"deleted mapping {name!r}")
