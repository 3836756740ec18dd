"""Verbs that fill and inspect the database: ``triage demo``, ``triage import``, ``triage info``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from triage_core.cli.common import (
    db_option,
    existing_db,
    json_option,
    load_config,
    print_json,
    progress,
    warn,
)
from triage_core.errors import TriageError
from triage_core.paths import check_output_file, is_database
from triage_core.schema import IMPORT_TABLES

# The committed demo world, loaded instead of generating one of the default size and seed.
SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"

# ignored columns named in the import's line; an API export flattened to dotted columns can
# have hundreds (--json lists them all)
_IGNORED_SHOWN = 15


def _info(store: Any) -> dict[str, Any]:
    return {"db": store.path, "schema_version": store.schema_version(),
            "tables": store.counts()}


@click.command(
    "demo", short_help="build a database from the demo world",
    help="Build a database from the seeded demo world. The default size and seed load the "
    "committed sample_data/; other sizes are generated.")
@db_option()
@click.option("--tickets", type=int, default=25_000, help="tickets (default 25000)")
@click.option("--seed", type=int, default=42, help="random seed (default 42)")
@click.option("--customers", type=int, default=None,
              help="customers (default: about a third of the tickets)")
@click.option("--out", default=None, help="keep the generated files in this folder")
@click.option("--force", is_flag=True, help="replace an existing database")
@click.option("--no-triage", is_flag=True, help="only load the data; do not train and score")
@click.option("--truth-out", default=None, metavar="FILE",
              help="also write the tickets each campaign caused, {campaign_id: caused_tickets},"
              " as JSON to FILE (the generator's own record; never put in the database)")
def demo_cmd(db: str, tickets: int, seed: int, customers: int | None, out: str | None,
             force: bool, no_triage: bool, truth_out: str | None) -> None:
    from triage_core import demo
    from triage_core.server import context
    from triage_core.store import Store

    path = Path(db)
    if truth_out:  # before the work: never over the database (a typo of --db)
        check_output_file(truth_out, "--truth-out", (db,))
    if path.exists():
        if not force:
            raise TriageError(f"{path} already exists; use --force to replace it or choose --db")
        if not is_database(path):  # --force --db export.csv replaced the export
            raise TriageError(f"{path} is not a DuckDB database; --force replaces only a"
                              " database: choose another --db")
        served = context.server_for(path)
        if served is not None:  # run by the server that owns the file: empty it in place
            served.reset_database()
        else:
            path.unlink()
            Path(str(path) + ".wal").unlink(missing_ok=True)
    use_sample = (tickets == demo.DEMO_TICKETS and seed == demo.DEMO_SEED
                  and customers is None and (SAMPLE_DATA / "tickets.parquet").exists())
    with Store(path) as store:
        if use_sample:
            source = SAMPLE_DATA
        else:
            source = Path(out) if out else path.parent / f".{path.name}.demo"
            _generate(source, tickets, seed, customers)
        with progress("importing", total=len(IMPORT_TABLES)) as bar:
            store.import_directory(source, progress=lambda t: bar.update(1))
        if not no_triage:
            _triage_all(store)
        info = _info(store)
    print(f"demo database {path}: " + ", ".join(f"{n:,} {t}" for t, n in info["tables"].items()
                                                if t in IMPORT_TABLES))
    if truth_out:
        _write_truth(Path(truth_out), tickets, seed, customers)


def _write_truth(path: Path, tickets: int, seed: int, customers: int | None) -> None:
    """The demo world's ground truth of caused tickets as JSON (campaign id -> tickets)."""
    import json

    from triage_core import demo

    truth = demo.caused_tickets(tickets, seed, customers)
    try:
        path.write_text(json.dumps(truth, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise TriageError(f"{path}: cannot write the truth file ({exc.strerror})") from None
    print(f"caused tickets per campaign: {path} ({sum(truth.values()):,} in all)")


def _generate(source: Path, tickets: int, seed: int, customers: int | None) -> None:
    """Generate the demo world's files into ``source`` with a progress bar per step."""
    from triage_core import demo

    bar = progress("generating demo world", total=None)
    state = {"step": ""}

    def step_done(step: str, done: int, total: int) -> None:
        if step != state["step"]:
            state["step"] = step
            bar.reset(total=total)
            bar.set_description(f"generating {step}")
        bar.n = done
        bar.refresh()

    demo.generate(source, tickets=tickets, seed=seed, customers=customers, progress=step_done)
    bar.close()


def _triage_all(store: Any) -> None:
    """Train the first model on the demo labels, then triage every ticket."""
    from triage_core.triage import pipeline, training

    config = load_config(None)
    print("training the category model on the labeled demo tickets...", file=sys.stderr)
    training.train(store, config, note="demo", by="demo")
    pipeline.triage(store, config, progress=progress, workers=pipeline.cli_workers(config))


@click.command(
    "import", short_help="import a CSV, Parquet or JSON file",
    help="Validate FILE and upsert it into TABLE in one transaction. A bad file changes nothing "
    f"and is reported with its row and column.\n\nTABLE is one of {', '.join(IMPORT_TABLES)}; "
    "FILE is .csv, .parquet, .json or .jsonl.")
@db_option()
@click.argument("table", metavar="TABLE", type=click.Choice(list(IMPORT_TABLES)))
@click.argument("file", metavar="FILE")
@click.option("--preset", type=click.Choice(["zendesk", "freshdesk"]), default=None,
              help="a shipped mapping for a helpdesk's ticket export (same as --mapping NAME)")
@click.option("--mapping", "mapping_ref", default=None, metavar="MAP",
              help="a mapping TOML file ([columns], [values.COLUMN], [defaults]) or the name of"
              " a saved mapping; see 'triage mapping'")
@click.option("--map", "maps", multiple=True, metavar="SOURCE=TARGET",
              help="map a column of the file to one of ours (repeatable; wins over --mapping)")
@click.option("--create-missing", is_flag=True,
              help="create customers/campaigns that tickets or touchpoints refer to but that do "
              "not exist yet, instead of refusing the file")
@json_option("print the result as one JSON object (warnings included)")
def import_cmd(db: str, table: str, file: str, preset: str | None, mapping_ref: str | None,
               maps: tuple[str, ...], create_missing: bool, as_json: bool) -> None:
    from triage_core.ops import health
    from triage_core.store import Store, importing
    from triage_core.store.mapping import parse_mapping

    fresh = [p for p in (Path(db), Path(f"{db}.wal")) if not p.exists()]
    imported = False
    try:
        with Store(db) as store:
            spec = importing.table_spec(table)
            chosen = importing.resolve_mapping(store, spec, mapping_ref, preset)
            if maps:
                chosen = importing.resolve_mapping(store, spec, parse_mapping(list(maps)),
                                                   None) \
                    if chosen is None else chosen.with_overrides(parse_mapping(list(maps)))
            result = store.import_file(table, file, mapping=chosen,
                                       create_missing=create_missing)
            imported = True
            notes = [*result.warnings,
                     *health.messages(health.check(store, load_config(None)))]
    except TriageError:
        if len(fresh) == 2 and not imported:  # a refused first import leaves no database
            for created in fresh:
                created.unlink(missing_ok=True)
        raise
    if as_json:
        import dataclasses

        print_json({**dataclasses.asdict(result), "warnings": list(dict.fromkeys(notes))})
        return
    if not result.rows_in_file and result.warnings:  # an export's empty page: not a problem
        print(result.warnings[0])
        warn(notes[1:])
        return
    rows = "row" if result.rows_in_file == 1 else "rows"
    msg = (f"{result.source}: {result.rows_in_file:,} {rows} into {result.table} "
           f"({result.new_rows:,} new, {result.existing_rows:,} already there, updated)")
    if result.ignored_columns:
        shown = result.ignored_columns[:_IGNORED_SHOWN]
        more = len(result.ignored_columns) - len(shown)
        msg += f"; ignored columns: {', '.join(shown)}" + (
            f" … and {more:,} more (--json lists them all)" if more else "")
    print(msg)
    warn(notes)


@click.command("info", short_help="row counts per table", help="Row counts per table.")
@db_option()
@json_option()
def info_cmd(db: str, as_json: bool) -> None:
    from triage_core.store import Store

    with Store(existing_db(db)) as store:
        info = _info(store)
    if as_json:
        print_json(info)
    else:
        print(f"database {info['db']} (schema version {info['schema_version']})")
        width = max(len(t) for t in info["tables"])
        for name, n in info["tables"].items():
            print(f"  {name:<{width}}  {n:>10,}")

