"""uvicorn in a background thread on loopback, for the tests and the load benchmark, which need
a real server (real sockets, real Host headers, real body streaming) rather than an in-process client."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

from starlette.applications import Starlette

STARTUP_TIMEOUT_S = 30.0


@contextlib.contextmanager
def background_server(app: Starlette, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve `app` until the block ends; yields the base URL (port 0: a free port is chosen)."""
    import uvicorn

    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False, lifespan="on")
    server = uvicorn.Server(config)
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
