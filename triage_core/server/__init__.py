"""``triage serve``: one process owns the database and serves the dashboard and a REST API.

- :mod:`~triage_core.server.app`: the :class:`Server` (the one read-write connection, intake,
  jobs, owner record) and :mod:`~triage_core.server.run` to serve it with uvicorn;
- :mod:`~triage_core.server.api` and :mod:`~triage_core.server.openapi`: the routes under
  ``/api/v1`` and their OpenAPI document; :mod:`~triage_core.server.uploads` for imports;
- :mod:`~triage_core.server.intake` and :mod:`~triage_core.server.quick`: tickets validated like
  an import, written and triaged in micro-batches, answered after COMMIT;
- :mod:`~triage_core.server.jobs`: score, train, retrain, imports and forwarded CLI verbs, with
  progress (:mod:`~triage_core.server.capture` keeps each job's output apart);
- :mod:`~triage_core.server.tokens`: API tokens (salted digests, constant-time checks);
- :mod:`~triage_core.server.webhooks`: Zendesk signatures, Freshdesk shared secret, templates;
- :mod:`~triage_core.server.owner` (the record next to the database file) and
  :mod:`~triage_core.server.client` (verbs of another process going through the server);
- :mod:`~triage_core.server.version` (the data version every write bumps) and
  :mod:`~triage_core.server.context` (what in-process code asks about the running server).

This package is loaded only by ``triage serve`` and the verbs that talk to a server; importing
it pulls in no web framework.
"""
