"""The playground's local server: one page, one WebSocket, real glassnet training.

Starlette serves the page and the socket, uvicorn runs them (both come with
``pip install "glassnet[playground]"``). Each socket has its own
:class:`~glassnet.web.playground.session.Session`; :mod:`.connection` turns its
commands into training done off the event loop and sends back at most 30 frames a
second. The checks, in order:

- the Host header must name this server (``127.0.0.1:PORT``, ``localhost:PORT``,
  ``[::1]:PORT``, or the ``--host`` given): anything else gets 400, which defeats
  DNS rebinding;
- a WebSocket's Origin must be this server's own page, at the handshake;
- the socket's first message must carry the random token of this run (the page
  reads it from its URL fragment, which browsers never send to a server); a
  missing or wrong token closes the socket with code 1008. The token is in no log;
- messages are at most :data:`~.connection.MAX_MESSAGE` characters (uploads at most
  1 MB); every configuration value is validated and clamped by :mod:`.config`;
- every response carries a Content-Security-Policy (the page's own inline code and
  connections to this server only).

>>> sorted(allowed_hosts_for("127.0.0.1", 8765))
['127.0.0.1:8765', '[::1]:8765', 'localhost:8765']
"""

from __future__ import annotations

import secrets
import socket
import sys
import threading
import time
import webbrowser
from typing import TYPE_CHECKING, Any

from glassnet.web.json_text import readable_json
from glassnet.web.page import asset_text, render_page
from glassnet.web.playground.config import (
    ACTIVATIONS,
    CLASSIFICATION_DATASETS,
    FEATURES,
    LIMITS,
    REGRESSION_DATASETS,
    SPEEDS,
)
from glassnet.web.playground.connection import MAX_MESSAGE, Connection
from glassnet.web.playground.datasets import FEATURE_LABELS, MAX_UPLOAD_BYTES

if (
    TYPE_CHECKING
):  # Starlette is imported when a server is made: the module imports without it
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.websockets import WebSocket

__all__ = ["Playground", "allowed_hosts_for", "create_app", "page_and_policy", "serve"]

_LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
_WILDCARDS = ("0.0.0.0", "::", "")
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def page_and_policy() -> tuple[str, str]:
    """The playground page and its Content-Security-Policy."""
    constants = {
        "classification_datasets": list(CLASSIFICATION_DATASETS),
        "regression_datasets": list(REGRESSION_DATASETS),
        "activations": list(ACTIVATIONS),
        "features": [[name, FEATURE_LABELS[name]] for name in FEATURES],
        "speeds": list(SPEEDS),
        "max_layers": int(LIMITS["layers"][1]),
        "max_neurons": int(LIMITS["neurons"][1]),
        "max_upload_bytes": MAX_UPLOAD_BYTES,
    }
    return render_page(
        title="glassnet playground",
        scripts=[
            "forward.js",
            "views.js",
            "diagram.js",
            "playground_view.js",
            "playground_controls.js",
            "playground_socket.js",
            "playground_draw.js",
            "playground.js",
        ],
        styles=["glassnet.css", "playground.css"],
        data={"glassnet-playground": readable_json(constants)},
        body=asset_text("playground_body.html"),
        extra_policy={"connect-src": "'self'"},
    )


def create_app(
    *, token: str, allowed_hosts: set[str], seed: int | None = None
) -> Starlette:
    """The ASGI app: ``/`` (the page) and ``/ws`` (the socket), behind the checks.

    >>> import pytest; _ = pytest.importorskip("starlette")  # the playground extra
    >>> app = create_app(token="t" * 43, allowed_hosts={"127.0.0.1:8765"})
    >>> sorted(route.path for route in app.routes)
    ['/', '/ws']
    """
    from starlette.applications import Starlette
    from starlette.responses import HTMLResponse, PlainTextResponse
    from starlette.routing import Route, WebSocketRoute

    html, policy = page_and_policy()
    headers = {**_HEADERS, "Content-Security-Policy": policy}
    origins = {f"http://{host}" for host in allowed_hosts}

    async def page(request: Request) -> Response:
        return HTMLResponse(html, headers=headers)

    async def socket_endpoint(websocket: WebSocket) -> None:
        if websocket.headers.get("origin") not in origins:
            await websocket.close(code=1008)  # before accepting: the handshake fails
            return
        await Connection(websocket, token, seed).run()

    async def not_found(request: Request, error: Exception) -> Response:
        return PlainTextResponse("Not found", status_code=404, headers=headers)

    app = Starlette(
        routes=[Route("/", page), WebSocketRoute("/ws", socket_endpoint)],
        exception_handlers={404: not_found, 405: not_found},
    )
    app.add_middleware(HostCheck, allowed_hosts=allowed_hosts, headers=headers)
    return app


class HostCheck:
    """ASGI middleware: a request whose Host is not this server's gets 400."""

    def __init__(
        self, app: Any, allowed_hosts: set[str], headers: dict[str, str]
    ) -> None:
        self.app = app
        self.allowed = {host.lower() for host in allowed_hosts}
        self.headers = headers

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            hosts = [v for k, v in scope.get("headers", []) if k == b"host"]
            host = hosts[0].decode("latin-1").lower() if len(hosts) == 1 else None
            if host not in self.allowed:
                from starlette.responses import PlainTextResponse

                if scope["type"] == "http":
                    response = PlainTextResponse(
                        "Bad Request: unknown Host header",
                        status_code=400,
                        headers=self.headers,
                    )
                    await response(scope, receive, send)
                else:
                    await receive()  # websocket.connect
                    await send({"type": "websocket.close", "code": 1008})
                return
        await self.app(scope, receive, send)


def allowed_hosts_for(host: str, port: int) -> set[str]:
    """The Host headers this server answers: loopback names, and ``host`` itself."""
    names = set(_LOOPBACK)
    if host in _WILDCARDS:
        names.add(socket.gethostname())
    elif ":" in host and not host.startswith("["):
        names.add(f"[{host}]")
    else:
        names.add(host)
    return {f"{name}:{port}" for name in names}


def _listen(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(64)
    sock.set_inheritable(True)
    return sock


class Playground:
    """A playground server bound to ``host:port`` (0: any free port), not yet running.

    ``url`` is the page's address with the token in its fragment; :meth:`run`
    serves in this thread until Ctrl-C, :meth:`start` in a background thread
    (tests, screenshots) until :meth:`stop`.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 8765, seed: int | None = None
    ):
        import uvicorn

        self.socket = _listen(host, port)
        self.port = self.socket.getsockname()[1]
        self.token = secrets.token_urlsafe(32)
        self.allowed_hosts = allowed_hosts_for(host, self.port)
        app = create_app(token=self.token, allowed_hosts=self.allowed_hosts, seed=seed)
        shown = "127.0.0.1" if host in (*_WILDCARDS, "localhost") else host
        self.origin = f"http://{f'[{shown}]' if ':' in shown else shown}:{self.port}"
        self.url = f"{self.origin}/#token={self.token}"
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,  # the token is never in a URL the server sees; still, no log
            ws_max_size=MAX_MESSAGE + 1024,
            lifespan="off",
            server_header=False,
        )
        self.server = uvicorn.Server(config)
        self.thread: threading.Thread | None = None

    def run(self) -> None:
        self.server.run(sockets=[self.socket])

    def start(self) -> Playground:
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the playground server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)
        self.socket.close()


def serve(
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = True,
    seed: int | None = None,
) -> None:
    """Run the playground until Ctrl-C (``glassnet playground``)."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        print(
            f"glassnet: warning: listening on {host} lets other machines reach the "
            "playground; the Host, Origin and token checks stay on.",
            file=sys.stderr,
        )
    playground = Playground(host, port, seed)
    print(f"glassnet playground: open {playground.url}\n(Ctrl-C stops it)", flush=True)
    if open_browser:
        threading.Timer(0.3, webbrowser.open, [playground.url]).start()
    playground.run()
