"""uvicorn for `symbolic serve`, with limits, and in a background thread for the tests and the
load benchmark (which need a real server: real sockets, real Host headers, real body streaming).

uvicorn holds a connection that never sends a request forever (it arms its keep-alive timer only
after a response), so 19,800 idle connections once held 19,809 descriptors. `GuardedH11Protocol`
adds what it lacks: a header timeout (a connection must complete a request's headers within
`header_timeout_s` of opening or of its last response) and a hard cap on open connections.
The body has its own timeout in the app (`WebSettings.body_timeout_s`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any

from starlette.applications import Starlette

STARTUP_TIMEOUT_S = 30.0
log = logging.getLogger(__name__)
_BUSY_BODY = b'{"error": "too many connections; try again shortly"}'
_BUSY = (b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 2\r\n"
         b"connection: close\r\ncontent-length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY))


@dataclass(frozen=True)
class ServerLimits:
    max_connections: int = 256  # open at once; beyond it a new connection gets a 503 and is closed
    header_timeout_s: float = 10.0  # from connecting (or the last response) to a request's full headers
    keep_alive_s: float = 5.0  # an idle keep-alive connection is closed after this
    max_header_bytes: int = 16 * 1024  # h11 refuses larger request heads (431)

    def __post_init__(self) -> None:
        if self.max_connections < 1 or self.header_timeout_s <= 0 or self.keep_alive_s <= 0:
            raise ValueError("server limits must be positive")


def uvicorn_config(app: Starlette, limits: ServerLimits | None = None, **options: Any) -> Any:
    """The uvicorn.Config of `symbolic serve` and the tests: h11 with the guards above."""
    import uvicorn

    limits = limits or ServerLimits()
    protocol = type("LimitedH11Protocol", (_guarded_protocol(),),
                    {"max_connections": limits.max_connections, "header_timeout_s": limits.header_timeout_s})
    # Not uvicorn's limit_concurrency: it keeps every connection open, counts idle ones, and at the
    # limit answers 503 to requests on connections already open (an idle flood then locks out the
    # clients that were there first). The cap above refuses new connections instead.
    return uvicorn.Config(app, http=protocol, log_level="warning", access_log=False,
                          timeout_keep_alive=limits.keep_alive_s,
                          h11_max_incomplete_event_size=limits.max_header_bytes, **options)


@contextlib.contextmanager
def background_server(app: Starlette, host: str = "127.0.0.1", port: int = 0,
                      limits: ServerLimits | None = None) -> Iterator[str]:
    """Serve `app` until the block ends; yields the base URL (port 0: a free port is chosen)."""
    import uvicorn

    server = uvicorn.Server(uvicorn_config(app, limits, host=host, port=port, lifespan="on"))
    thread = threading.Thread(target=server.run, name="symbolic-web-server", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError("the web server did not start")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()
    try:
        yield f"http://{bound[0]}:{bound[1]}"
    finally:
        server.should_exit = True
        thread.join(STARTUP_TIMEOUT_S)


@cache
def _guarded_protocol() -> type:
    """GuardedH11Protocol, made on first use so that importing this module needs no uvicorn."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class GuardedH11Protocol(H11Protocol):  # type: ignore[misc]
        max_connections = 256
        header_timeout_s = 10.0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            self._header_timer: asyncio.TimerHandle | None = None
            super().connection_made(transport)
            if len(self.connections) > self.max_connections:
                # Answered without reading the request, and closed: the descriptor is freed now.
                transport.write(_BUSY)
                transport.close()
                return
            self._arm_header_timer()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if not self.transport.is_closing():
                self._arm_header_timer()

        def connection_lost(self, exc: Exception | None) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            super().connection_lost(exc)

        def _arm_header_timer(self) -> None:
            if self._header_timer is not None:
                self._header_timer.cancel()
            armed = self.cycle
            self._header_timer = self.loop.call_later(self.header_timeout_s, self._header_timeout, armed)

        def _header_timeout(self, armed: Any) -> None:
            # A request whose headers arrived since (a new cycle), still being answered, is left be.
            idle = self.cycle is None or self.cycle.response_complete
            if idle and self.cycle is armed and not self.transport.is_closing():
                log.info("closing a connection that sent no complete request in %g s", self.header_timeout_s)
                self.transport.close()

    return GuardedH11Protocol
