"""Run a :class:`~triage_core.server.app.Server` with uvicorn on a socket bound here (so the real
port is known before the owner record is written, and a port in use is a clear error)."""

from __future__ import annotations

import importlib
import logging
import socket
from typing import Any

from triage_core.errors import TriageError
from triage_core.server.app import Server, api_app

# The dashboard's ASGI factory, named like `streamlit run` names its script: (server, host,
# port) -> (app, uvicorn options). triage_core never imports the dashboard.
DASHBOARD_APP = "dashboard.asgi:create_app"


def bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host``:``port`` (0: any free port)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as exc:
        raise TriageError(f"--host {host}: not an address of this machine ({exc})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        raise TriageError(f"cannot listen on {host}:{port} ({exc.strerror}); is another server "
                          "running there? Choose another --port") from None
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def url_of(sock: socket.socket) -> str:
    """The address local clients use: a wildcard bind is reached through the loopback."""
    host, port = sock.getsockname()[:2]
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def serve(server: Server, host: str, port: int, dashboard: bool = True) -> None:
    """Serve until stopped (Ctrl+C or SIGTERM stop it cleanly)."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    sock = bind(host, port)
    server.url = url_of(sock)
    options: dict[str, Any] = {}
    if dashboard:
        module, _, name = DASHBOARD_APP.partition(":")
        app, options = getattr(importlib.import_module(module), name)(
            server, host, sock.getsockname()[1])
    else:
        app = api_app(server)
    print(f"serving {server.db_path} at {server.url} (API under {server.url}/api/v1/)",
          flush=True)
    config = uvicorn.Config(app, lifespan="on", access_log=False, log_level="warning",
                            timeout_graceful_shutdown=10, **options)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    finally:
        sock.close()
