"""``triage serve``, ``triage tokens create|list|revoke``, and every verb going through a server.

While ``triage serve`` owns a database (its owner record lies next to the file), the other verbs
on that database send their command line to the server (:func:`forward_when_served`), which
runs it in its process on its connection; this process shows the job's progress bar, then what
the verb printed, and exits with its status. Without a server the verbs open the file as
always.
"""

from __future__ import annotations

import functools
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

import click

from triage_core.cli.common import (
    VerbGroup,
    config_option,
    db_option,
    existing_db,
    json_option,
    print_json,
)
from triage_core.errors import DatabaseBusyError, TriageError

# Verbs that never go to a server: the server itself, and one that does not use the database.
LOCAL = {("serve",), ("evaluate",)}
# Verbs that only read (they run next to a running write job instead of after it).
READS = {("info",), ("models",), ("feedback", "list"), ("review",), ("attribution",),
         ("backtest",), ("mapping", "suggest"), ("mapping", "show"), ("mapping", "list"),
         ("tokens", "list"), ("lift",), ("forecast",)}
# How long a verb that finds the database locked by a server that is starting waits for it.
STARTING_WAIT_SECONDS = 120.0
# Parameters that name files: sent to the server as absolute paths.
PATHS = {"file", "config", "out", "train", "test", "truth_out"}


@click.command(
    "serve", short_help="serve the dashboard and the REST API; own the database",
    help="Serve the dashboard and the REST API (/api/v1/) from one process that holds the only "
    "read-write connection to the database. Other triage verbs on the same database send their "
    "work to it. Stop it with Ctrl+C.")
@db_option()
@config_option
@click.option("--host", default=None, help="address to listen on (default: [server] host, "
              "localhost; 0.0.0.0 for every interface)")
@click.option("--port", type=int, default=None,
              help="port (default: [server] port, 8501; 0 = any free port)")
@click.option("--no-dashboard", is_flag=True, help="serve the API only")
def serve_cmd(db: str, config: str | None, host: str | None, port: int | None,
              no_dashboard: bool) -> None:
    from triage_core.cli.common import load_config
    from triage_core.server.app import Server
    from triage_core.server.run import serve

    path = os.path.abspath(config) if config else os.environ.get("TRIAGE_CONFIG")
    server = Server(db, load_config(config), CliVerbs(), config_path=path)
    serve(server, host or server.settings.host,
          server.settings.port if port is None else port, dashboard=not no_dashboard)


@click.group(
    "tokens", cls=VerbGroup, short_help="API tokens: create, list, revoke",
    help="API tokens for the REST API of 'triage serve'. A token is printed once when created "
    "and stored only as a salted hash.")
@db_option(expose=False)
def tokens_group() -> None:
    pass


@tokens_group.command("create", short_help="create a token and print it once",
                      help="Create a token named NAME and print it (it cannot be shown again).")
@db_option()
@click.option("--name", required=True, help="who or what uses it, e.g. zendesk")
@json_option('print {"token": "..."}')
def tokens_create(db: str, name: str, as_json: bool) -> None:
    from triage_core.server import tokens
    from triage_core.store import Store

    with Store(existing_db(db)) as store:
        token = tokens.create(store, name)
    if as_json:
        print_json({"token": token})
    else:
        print(token)
        print(f"token {name!r} created; it is shown only now: keep it", file=sys.stderr)


@tokens_group.command("list", short_help="list tokens (never the tokens themselves)",
                      help="List tokens: id, name, created, revoked.")
@db_option()
@json_option()
def tokens_list(db: str, as_json: bool) -> None:
    from triage_core.cli.common import print_frame
    from triage_core.server import tokens
    from triage_core.store import Store

    with Store(existing_db(db)) as store:
        df = tokens.list_tokens(store)
    print_frame(df, as_json, ["token_id", "name", "created_at", "revoked_at"],
                "no tokens yet; create one with 'triage tokens create --name NAME'")


@tokens_group.command("revoke", short_help="revoke a token by id or name",
                      help="Revoke the token with id or name TOKEN; it stops working at once.")
@db_option()
@click.argument("token", metavar="TOKEN")
def tokens_revoke(db: str, token: str) -> None:
    from triage_core.server import tokens
    from triage_core.store import Store

    with Store(existing_db(db)) as store:
        token_id = tokens.revoke(store, token)
    print(f"revoked token {token_id}")


# -- going through a running server ---------------------------------------------------------

def _root() -> click.Group:
    from triage_core.cli import triage

    return triage


def _leaf(argv: list[str]) -> tuple[tuple[str, ...], click.Command]:
    """The verb an argument list names (the names of its groups first)."""
    command: click.Command = _root()
    path: list[str] = []
    while isinstance(command, click.Group):
        name = argv[len(path)] if len(path) < len(argv) else ""
        sub = command.commands.get(name)
        if sub is None and command.invoke_without_command and path and (
                not name or name.startswith("-")):
            break  # the group itself (`triage topics --refresh`)
        if sub is None:
            raise TriageError(f"unknown verb {' '.join([*path, name]).strip()!r}")
        command = sub
        path.append(name)
    return tuple(path), command


class CliVerbs:
    """The ``triage`` command as ``triage serve`` runs it for its clients."""

    def run(self, argv: list[str]) -> int:
        from triage_core.cli import main

        return main(argv)

    def classify(self, argv: list[str]) -> tuple[str, bool]:
        path, _ = _leaf(argv)
        if path in LOCAL or "--db" in argv:
            raise TriageError(f"'{' '.join(path)}' is not run by the server")
        reads = path in READS and not (path == ("models",) and
                                       ({"promote", "rollback"} & set(argv)))
        return " ".join(path), not reads

    def on_db(self, argv: list[str], db: str) -> list[str]:
        path, _ = _leaf(argv)
        return [*path, "--db", db, *argv[len(path):]]

    def refusal(self, argv: list[str]) -> tuple[str | None, str] | None:
        """(the option, why) when parsing ``argv`` as the CLI does refuses a value (nothing
        runs); None when it parses."""
        path, command = _leaf(argv)
        try:
            command.make_context(" ".join(path), argv[len(path):])
        except click.BadParameter as exc:
            opts = exc.param.opts if exc.param is not None else []
            return (opts[0] if opts else None), exc.message
        except click.ClickException as exc:
            return None, exc.format_message()
        return None


def _as_path(name: str, value: Any) -> Any:
    if name in PATHS or (name == "mapping_ref" and (str(value).lower().endswith(".toml")
                                                     or Path(str(value)).exists())):
        return os.path.abspath(str(value))
    return value


def command_line(path: tuple[str, ...], command: click.Command,
                 params: dict[str, Any]) -> list[str]:
    """The verb's arguments again, without --db, file names made absolute."""
    options: list[str] = []
    arguments: list[str] = []
    for p in command.params:
        value = params.get(p.name or "")
        if p.name == "config" and value is None and os.environ.get("TRIAGE_CONFIG"):
            value = os.environ["TRIAGE_CONFIG"]  # the server has its own environment
        if p.name == "db" or value is None or value is False or value == ():
            continue
        if isinstance(p, click.Argument):
            values = value if isinstance(value, tuple) else (value,)
            arguments += [str(_as_path(p.name or "", v)) for v in values]
        elif isinstance(p, click.Option) and p.is_flag:
            options.append(p.opts[0])
        elif isinstance(p, click.Option):
            for v in value if p.multiple else (value,):
                options += [p.opts[0], str(_as_path(p.name or "", v))]
    return [*path, *options, "--", *arguments] if arguments else [*path, *options]


def forward_when_served(group: click.Group, path: tuple[str, ...] = ()) -> None:
    """Make every verb that uses the database go through the server that owns it, if any."""
    for name, command in group.commands.items():
        here = (*path, name)
        if isinstance(command, click.Group):
            if command.invoke_without_command and command.callback is not None:
                # a group that works on its own too (`triage topics`): that work goes through
                # the server; its sub-verbs are forwarded on their own
                command.callback = _forwarding(here, command, command.callback, group=True)
            forward_when_served(command, here)
        elif here not in LOCAL and command.callback is not None:
            command.callback = _forwarding(here, command, command.callback)


def _forwarding(path: tuple[str, ...], command: click.Command, callback: Any,
                group: bool = False) -> Any:
    @functools.wraps(callback)
    def run(**params: Any) -> Any:
        from triage_core.server import context, owner

        if group and click.get_current_context().invoked_subcommand is not None:
            return callback(**params)
        db = params.get("db")
        here = db and context.current_job() is None
        if here and owner.record_path(db).exists():
            record = owner.live(db)
            if record is not None:
                _run_remote(record, path, command, params)
        try:
            return callback(**params)
        except DatabaseBusyError:
            # the file is locked: by a server that is starting? then wait for it
            other = owner.starting(db) if here else None
            if other is None:
                raise
            click.echo(f"the server of this database (process {other['pid']}) is starting; "
                       "waiting for it...", err=True)
            record = owner.wait_until_live(db, STARTING_WAIT_SECONDS)
            if record is None:
                if owner.starting(db) is not None:
                    raise  # still starting after all that time
                return callback(**params)  # it went away: the file is ours now
            _run_remote(record, path, command, params)

    return run


def _run_remote(record: dict[str, Any], path: tuple[str, ...], command: click.Command,
                params: dict[str, Any]) -> NoReturn:
    """Run the verb on the server of ``record`` and exit with its status."""
    from triage_core.server.client import run_remote

    code = run_remote(record, command_line(path, command, params))
    click.get_current_context().exit(code)
