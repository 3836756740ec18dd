"""What every verb of the ``triage`` command shares: the command group type that turns
:class:`~triage_core.errors.TriageError` into one line on stderr, the ``--db``, ``--config`` and
``--json`` options, the progress bar and the JSON and table printers.

This module and the verb modules import only click and light leaves at module level, so that
``triage --help`` starts fast; each verb imports the heavy modules (pandas, scikit-learn, the
DuckDB store) inside its body.
"""

from __future__ import annotations

import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any

import click

from triage_core.errors import TriageError

F = Callable[..., Any]
_DB_KEY = "triage.db"


class VerbGroup(click.Group):
    """A group that lists its verbs in the order they were added and prints the problems a user
    can fix (:class:`TriageError`) as one line on stderr with exit status 1, no traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(self.commands)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except TriageError as exc:
            print(f"error: {exc}", file=sys.stderr)
            _tell_job(exc)
            ctx.exit(1)
        except KeyboardInterrupt:
            print("interrupted", file=sys.stderr)
            ctx.exit(130)
        except BrokenPipeError:
            ctx.exit(0)


def _tell_job(exc: TriageError) -> None:
    """Inside the server (a verb run as a job), hand the job the error itself, so that the
    API can answer with its parts (an import error's file, row and column)."""
    context = sys.modules.get("triage_core.server.context")  # loaded only by a server
    job = context.current_job() if context is not None else None
    if job is not None:
        job.failure = exc


def default_db() -> str:
    """``$TRIAGE_DB``, else ``./triage.duckdb``: :func:`triage_core.store.default_db_path`, read
    here without importing the store (it loads duckdb and pandas); tests/test_cli.py checks that
    the two agree."""
    return os.environ.get("TRIAGE_DB") or "triage.duckdb"


def _keep_db(ctx: click.Context, param: click.Parameter, value: str | None) -> str:
    """A ``--db`` given after a verb wins over one given before it; neither: the default."""
    if value is not None:
        ctx.meta[_DB_KEY] = value
    return ctx.meta.get(_DB_KEY) or default_db()


def existing_db(db: str) -> str:
    """``db``, which must be a database already: every verb but those that create one
    (``demo``, ``import`` and ``serve``) refuses a path where there is none, instead of leaving a
    new empty database (and its folders) behind a mistyped ``--db``."""
    if db != ":memory:" and not os.path.exists(db):
        raise TriageError(f"{db}: no such database; create one with 'triage demo' or "
                          "'triage import'")
    return db


class Moment(click.ParamType):
    """A date or time option, read as :mod:`triage_core.moments` reads it (ISO 8601 only, so
    ``05.03.2024`` is refused rather than read month first); the verb gets the text."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from triage_core import moments

        why = moments.problem(value)
        if why is not None:
            self.fail(why, param, ctx)
        return value


MOMENT = Moment()


def db_option(expose: bool = True) -> Callable[[F], F]:
    """``--db PATH``; the verb receives the path as ``db`` (groups only pass it on)."""
    return click.option(
        "--db", default=None, callback=_keep_db, expose_value=expose, metavar="DB",
        help=f"DuckDB database file (default: $TRIAGE_DB or ./triage.duckdb; now {default_db()})",
    )


config_option = click.option(
    "--config", default=None, metavar="CONFIG",
    help="TOML file overriding the defaults (default: $TRIAGE_CONFIG)")


# The most days a days option takes: a hundred years (far beyond any data; a much larger number
# overflows the time arithmetic of pandas and DuckDB).
MAX_DAYS = 36_500


class FiniteFloatRange(click.FloatRange):
    """A :class:`click.FloatRange` that also refuses ``nan``, which passes every bound."""

    def convert(self, value: Any, param: click.Parameter | None,
                ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if math.isnan(number):
            self.fail(f"{value!r} is not a number.", param, ctx)
        return number


def limit_option(default: int) -> Callable[[F], F]:
    """``--limit N``: at most N rows, N at least 1."""
    return click.option("--limit", type=click.IntRange(min=1), default=default,
                        help=f"at most this many (default {default})")


def os_user() -> str:
    """Who runs the command, for the audit trail when no ``--by`` is given: the login name,
    else ``cli`` (the author the CLI records for its other changes)."""
    import getpass

    try:
        return getpass.getuser().strip() or "cli"
    except (OSError, KeyError, ImportError):  # no name in the environment, no passwd entry
        return "cli"


def by_option(help: str) -> Callable[[F], F]:
    """``--by NAME``, default (and when empty) the user's login name (:func:`os_user`); resolved
    while parsing, so a verb sent to a server records this user, not the server's."""
    return click.option("--by", default=None, callback=lambda ctx, param, value:
                        (value or "").strip() or os_user(),
                        help=f"{help} (default: your login name)")


def json_option(help: str = "print JSON") -> Callable[[F], F]:
    return click.option("--json", "as_json", is_flag=True, help=help)


def load_config(path: str | None) -> dict[str, Any]:
    """The packaged defaults, overridden by ``--config`` (or ``$TRIAGE_CONFIG``)."""
    from triage_core.config import load_config as load

    return load(path)


def progress(desc: str, total: int | None = None, unit: str = "it"):
    """A tqdm progress bar on stderr (silent when stderr is not a terminal); inside a server
    job, a bar the job reports to the client that follows it."""
    from tqdm import tqdm

    from triage_core.server.context import current_job

    job = current_job()
    if job is not None:
        return job.bar(desc, total, unit)

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr,
                disable=not sys.stderr.isatty(), leave=False, dynamic_ncols=True)


def print_json(obj: Any) -> None:
    json.dump(obj, sys.stdout, indent=2, default=str, allow_nan=False)
    sys.stdout.write("\n")


def print_frame(df: Any, as_json: bool, columns: list[str], empty: str,
                floatfmt: str = "{:,.2f}") -> None:
    """A listing: JSON records, ``empty`` when there are no rows, else a table of ``columns``."""
    if as_json:
        from triage_core.ops.analytics import to_records

        print_json(to_records(df))
    elif df.empty:
        print(empty)
    else:
        print(table(df, columns, floatfmt=floatfmt))


def table(df: Any, columns: list[str] | None = None, floatfmt: str = "{:,.2f}") -> str:
    """A plain-text table for terminals."""
    import pandas as pd

    d = df if columns is None else df[columns]
    cells = [[("" if v is None or v is pd.NaT or (isinstance(v, float) and pd.isna(v)) else
               floatfmt.format(v) if isinstance(v, float) else str(v)) for v in row]
             for row in d.itertuples(index=False)]
    heads = [str(c) for c in d.columns]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(heads)]
    lines = ["  ".join(h + " " * (w - _width(h)) for h, w in zip(heads, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(" " * (w - _width(c)) + c for c, w in zip(r, widths, strict=True))
              for r in cells]
    return "\n".join(lines)


def _width(text: str) -> int:
    """The columns ``text`` takes in a terminal: two for a CJK character or an emoji, none for
    a combining accent (its length where a character has no width, such as a control)."""
    if text.isascii():
        return len(text)
    from wcwidth import wcswidth

    width = wcswidth(text)
    return width if width >= 0 else len(text)


def warn(messages: list[str]) -> None:
    """Warnings about hollow or doubtful results: one line each on stderr, never silent."""
    for message in dict.fromkeys(messages):
        print(f"warning: {message}", file=sys.stderr)
