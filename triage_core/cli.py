"""The ``triage`` command: one verb per job.

Every verb takes ``--db PATH`` (default ``$TRIAGE_DB`` or ``./triage.duckdb``). Problems the user
can fix are printed as one line on stderr with exit status 1, never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__
from .errors import TriageError
from .schema import IMPORT_TABLES
from .store import ENV_DB, Store, default_db_path


def _progress(desc: str, total: int | None = None, unit: str = "it"):
    """A tqdm progress bar on stderr (silent when stderr is not a terminal)."""
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr,
                disable=not sys.stderr.isatty(), leave=False, dynamic_ncols=True)


def _open_store(args: argparse.Namespace) -> Store:
    return Store(args.db)


def _print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str, allow_nan=False)
    sys.stdout.write("\n")


def _info(store: Store) -> dict[str, Any]:
    return {"db": store.path, "schema_version": store.schema_version(),
            "tables": store.counts()}


# -- verbs --------------------------------------------------------------------------------------

def cmd_info(args: argparse.Namespace) -> int:
    if args.db != ":memory:" and not Path(args.db).exists():
        raise TriageError(f"{args.db}: no such database; create one with 'triage demo' or "
                          "'triage import'")
    with _open_store(args) as store:
        info = _info(store)
    if args.json:
        _print_json(info)
    else:
        print(f"database {info['db']} (schema version {info['schema_version']})")
        width = max(len(t) for t in info["tables"])
        for table, n in info["tables"].items():
            print(f"  {table:<{width}}  {n:>10,}")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from .importers import parse_mapping

    mapping = parse_mapping(args.map or [])
    with _open_store(args) as store:
        result = store.import_file(args.table, args.file, preset=args.preset, mapping=mapping,
                                   create_missing=args.create_missing)
    msg = (f"{result.source}: {result.rows_in_file:,} rows into {result.table} "
           f"({result.new_rows:,} new, {result.existing_rows:,} already there, updated)")
    if result.ignored_columns:
        msg += f"; ignored columns: {', '.join(result.ignored_columns)}"
    print(msg)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from . import demo

    db = Path(args.db)
    if db.exists():
        if not args.force:
            raise TriageError(f"{db} already exists; use --force to replace it or choose --db")
        db.unlink()
        Path(str(db) + ".wal").unlink(missing_ok=True)
    sample = Path(__file__).resolve().parent.parent / "sample_data"
    use_sample = (args.tickets == demo.DEMO_TICKETS and args.seed == demo.DEMO_SEED
                  and args.customers is None and (sample / "tickets.parquet").exists())
    with Store(db) as store:
        if use_sample:
            source = sample
        else:
            source = Path(args.out) if args.out else db.parent / f".{db.name}.demo"
            bar = _progress("generating demo world", total=None)
            state = {"step": ""}

            def progress(step: str, done: int, total: int) -> None:
                if step != state["step"]:
                    state["step"] = step
                    bar.reset(total=total)
                    bar.set_description(f"generating {step}")
                bar.n = done
                bar.refresh()

            demo.generate(source, tickets=args.tickets, seed=args.seed,
                          customers=args.customers, progress=progress)
            bar.close()
        with _progress("importing", total=len(IMPORT_TABLES)) as bar:
            store.import_directory(source, progress=lambda t: bar.update(1))
        if not args.no_triage:
            _triage_all(store, args)
        info = _info(store)
    print(f"demo database {db}: " + ", ".join(f"{n:,} {t}" for t, n in info["tables"].items()
                                              if t in IMPORT_TABLES))
    return 0


def _triage_all(store: Store, args: argparse.Namespace) -> None:
    """Train the first model when there is none, then score every ticket."""


# -- parser -------------------------------------------------------------------------------------

def build_parser() -> argparse.ArgumentParser:
    db_help = (f"DuckDB database file (default: ${ENV_DB} or ./triage.duckdb;"
               f" now {default_db_path()})")
    common = argparse.ArgumentParser(add_help=False)
    # SUPPRESS: a --db given after the verb wins, one given before it is kept.
    common.add_argument("--db", default=argparse.SUPPRESS, help=db_help)
    parser = argparse.ArgumentParser(
        prog="triage",
        description="Support-ticket triage and campaign impact on DuckDB.",
    )
    parser.add_argument("--db", default=str(default_db_path()), help=db_help)
    parser.add_argument("--version", action="version", version=f"triage {__version__}")
    sub = parser.add_subparsers(dest="verb", metavar="VERB", required=True)

    p = sub.add_parser("demo", parents=[common], help="build a database from the demo world",
                       description="Build a database from the seeded demo world. The default "
                       "size and seed load the committed sample_data/; other sizes are generated.")
    p.add_argument("--tickets", type=int, default=25_000, help="tickets (default %(default)s)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default %(default)s)")
    p.add_argument("--customers", type=int, default=None,
                   help="customers (default: about a third of the tickets)")
    p.add_argument("--out", default=None, help="keep the generated files in this folder")
    p.add_argument("--force", action="store_true", help="replace an existing database")
    p.add_argument("--no-triage", action="store_true",
                   help="only load the data; do not train and score")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("import", parents=[common], help="import a CSV, Parquet or JSON file",
                       description="Validate FILE and upsert it into TABLE in one transaction. "
                       "A bad file changes nothing and is reported with its row and column.")
    p.add_argument("table", choices=list(IMPORT_TABLES), metavar="TABLE",
                   help=f"one of {', '.join(IMPORT_TABLES)}")
    p.add_argument("file", metavar="FILE", help=".csv, .parquet, .json or .jsonl")
    p.add_argument("--preset", choices=["zendesk", "freshdesk"],
                   help="column names of a helpdesk's ticket export")
    p.add_argument("--map", action="append", metavar="SOURCE=TARGET",
                   help="map a column of the file to one of ours (repeatable)")
    p.add_argument("--create-missing", action="store_true",
                   help="create customers/campaigns that tickets or touchpoints refer to "
                        "but that do not exist yet, instead of refusing the file")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("info", parents=[common], help="row counts per table")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_info)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except TriageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
