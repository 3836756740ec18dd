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

        async def unmatched(request: Request) -> JSONResponse:
            return JSONResponse({"error": "no such route"}, status_code=404)

        return [Route("/api/v1/health", health), Route("/api/v1/{rest:path}", unmatched)]


def test_api_requests_skip_the_dashboard_app() -> None:
    seen: list[str] = []

    async def dashboard(scope: dict[str, Any], receive: Any, send: Any) -> None:
        seen.append(scope["path"])
        await PlainTextResponse("a page")(scope, receive, send)

    client = TestClient(api_first(dashboard, _Server()))
    answer = client.get("/api/v1/health")
    assert answer.status_code == 200
    assert answer.json() == {"status": "ok", "path": "/api/v1/health"}
    missing = client.get("/api/v1/no-such-route")  # the API's own 404
    assert missing.status_code == 404 and missing.json() == {"error": "no such route"}
    assert client.get("/").text == "a page"
    assert client.get("/Campaigns").text == "a page"
    assert client.get("/api").text == "a page"  # not the API's: the dashboard's, as before
    assert seen == ["/", "/Campaigns", "/api"]  # the API's requests never reached it
