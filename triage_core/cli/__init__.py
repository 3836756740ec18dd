"""The ``triage`` command: one verb per job, one module per group of verbs.

- :mod:`triage_core.cli.data`: ``demo``, ``import``, ``info``
- :mod:`triage_core.cli.mapping`: ``mapping suggest|show|save|list|delete``
- :mod:`triage_core.cli.ops`: ``score``, ``backtest``, ``feedback add|list|undo``, ``review``
- :mod:`triage_core.cli.marketing`: ``attribution``, ``lift``, ``forecast``
- :mod:`triage_core.cli.models`: ``train``, ``models``, ``predict``, ``evaluate``, ``retrain``,
  ``topics``, ``emerging``
- :mod:`triage_core.cli.server`: ``serve``, ``tokens create|list|revoke``; while a server owns
  the database, every other verb on it runs in the server
- :mod:`triage_core.cli.common`: the options, printers and error handling they share

Every verb takes ``--db PATH`` (default ``$TRIAGE_DB`` or ``./triage.duckdb``). Problems the user
can fix are printed as one line on stderr with exit status 1, never as a traceback; usage errors
exit with status 2.
"""

from __future__ import annotations

from collections.abc import Sequence

import click

from triage_core import __version__
from triage_core.cli import data, mapping, marketing, models, ops, server
from triage_core.cli.common import VerbGroup, db_option


@click.group("triage", cls=VerbGroup,
             help="Support-ticket triage and campaign impact on DuckDB.",
             context_settings={"help_option_names": ["-h", "--help"]})
@db_option(expose=False)
@click.version_option(__version__, "--version", prog_name="triage",
                      message="%(prog)s %(version)s")
def triage() -> None:
    pass


for _verb in (data.demo_cmd, data.import_cmd, mapping.mapping_group, data.info_cmd,
              ops.score_cmd, ops.backtest_cmd, marketing.attribution_cmd, marketing.lift_cmd,
              marketing.forecast_cmd, ops.feedback_group,
              ops.review_cmd, models.train_cmd, models.models_cmd, models.predict_cmd,
              models.evaluate_cmd, models.retrain_cmd, models.topics_group,
              models.emerging_cmd, server.serve_cmd, server.tokens_group):
    triage.add_command(_verb)
server.forward_when_served(triage)


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``triage`` with ``argv`` (default: the process arguments); return the exit status."""
    try:
        triage.main(args=argv, prog_name="triage")
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0
