"""`symbolic serve`: the local web composer (symbolic.web) behind uvicorn.

`register(commands)` adds the sub-command to the CLI's sub-parsers; its handler returns the exit
status and leaves SymbolicError to the CLI's main to print as one line.
"""

from __future__ import annotations

import argparse
import ipaddress
import socket
import sys
from typing import Any

from symbolic.errors import SymbolicError

WEB_HINT = "pip install 'symbolic[web]' (the web extra: starlette and uvicorn)"


def register(commands: Any) -> None:
    serve = commands.add_parser(
        "serve", help="start the web composer: generate, see, play, edit and download tunes in a browser",
        description=(
            "Start a local web page with the controls of `symbolic generate`, the sheet music, an audio "
            "player and downloads of ABC, MIDI and WAV for each tune; the ABC can be edited and rendered "
            "again. It listens on loopback (127.0.0.1) unless --host says otherwise."
        ),
    )
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: only this computer can connect)")
    serve.add_argument("--port", type=_port, default=8000, help="TCP port (default 8000; 0 picks a free one)")
    serve.add_argument("--model", metavar="PATH", help="a model folder (default: the bundled model)")
    serve.add_argument("--workers", type=_workers, default=2, metavar="N",
                       help="jobs worked on at once (default 2)")
    serve.set_defaults(handler=_serve)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port (0..65535): {text!r}")
    return int(text)


def _workers(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 16:
        raise argparse.ArgumentTypeError(f"workers must be 1..16, got {text!r}")
    return int(text)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _serve(args: argparse.Namespace) -> int:
    try:
        import uvicorn

        from symbolic.web.app import LOOPBACK_HOSTS, WebSettings, create_app
        from symbolic.web.server import uvicorn_config
    except ImportError as error:
        raise SymbolicError(f"`symbolic serve` needs {error.name}: {WEB_HINT}") from None

    loopback = is_loopback(args.host)
    hosts = LOOPBACK_HOSTS if loopback else ("*",)  # another address: the Host header cannot be known ahead
    app = create_app(args.model, WebSettings(workers=args.workers, allowed_hosts=hosts))
    if not loopback:
        print(f"symbolic: warning: listening on {args.host}: other computers can reach this server",
              file=sys.stderr)
    # The socket is bound here, not by uvicorn: a port in use is then one line from the CLI, not a
    # uvicorn exit, and the address printed is the real one (--port 0 picks a free port).
    family = socket.AF_INET6 if ":" in args.host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((args.host.strip("[]"), args.port))
    except OSError as error:
        listener.close()
        raise SymbolicError(f"cannot listen on {args.host}:{args.port}: {error.strerror or error}") from None
    host, port = listener.getsockname()[:2]
    shown = f"[{host}]" if ":" in host else host
    print(f"symbolic: serving on http://{shown}:{port}/  (Ctrl+C stops)", flush=True)
    # Header and keep-alive timeouts, a connection cap and a header size limit (symbolic.web.server).
    uvicorn.Server(uvicorn_config(app)).run(sockets=[listener])
    return 0
