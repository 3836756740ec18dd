"""`triage serve`'s ASGI app: the API's requests go straight to the API's Starlette app, every
other request (the dashboard's pages, its websocket, the lifespan) to Streamlit's app."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from dashboard.asgi import api_first


class _Server:
    """What api_first reads of the server: its API routes."""

    def routes(self) -> list[Route]:
        async def health(request: Request) -> JSONResponse:
            return JSONResponse({"status": "ok", "path": request.url.path})

        return [Route("/api/v1/health", health)]


def test_api_requests_skip_the_dashboard_app() -> None:
    seen: list[str] = []

    async def dashboard(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await PlainTextResponse("a page")(scope, receive, send)

    client = TestClient(api_first(dashboard, _Server()))
    answer = client.get("/api/v1/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "path": "/api/v1/health"}
    assert client.get("/api/v1/no-such-route").status_code == 404  # the API's own 404
    assert client.get("/").text == "a page"
    assert client.get("/Campaigns").text == "a page"
    assert seen == ["/", "/Campaigns"]  # the API's requests never reached the dashboard
