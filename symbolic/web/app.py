"""The Starlette app of `symbolic serve`: one page, a small JSON API and the output store.

Routes (nothing else answers; every error is JSON with an `error` message, never a traceback):
  GET  /                 the page             GET  /static/NAME    its script and style
  GET  /api/options      choices and limits   POST /api/generate   queue new tunes -> 202 job
  POST /api/render       queue edited ABC     GET  /api/jobs/ID    a job's state and results
  GET  /files/ID         a stored output (?download=1 offers it as a download)
No route takes a path: static files are read into memory when the app is made, and outputs
are looked up by random id in the store (files in a private folder, streamed from disk).

What one client can make the server hold is bounded: a request body (`params.MAX_BODY_BYTES`,
read within `body_timeout_s`), its jobs (`max_jobs_per_client`, run round robin with other
clients'), a job's audio and output (`outputs.MAX_AUDIO_SECONDS`, `outputs.MAX_JOB_BYTES`, checked
before rendering) and its share of the store (`store_bytes_per_client`). A client that hangs up
mid-body is one log line, not a 500 with a traceback.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Route

from symbolic.abc.writer import write_abc
from symbolic.errors import AbcSyntaxError, SymbolicError
from symbolic.generation.generate import FOLK_KEYS, check_request, generate
from symbolic.generation.generate import Request as TuneRequest
from symbolic.generation.sampler import SamplingSettings
from symbolic.midi.writer import MidiOptions
from symbolic.models.modelfile import ModelFile, load_model
from symbolic.web import params
from symbolic.web.jobs import Job, JobQueue, QueueFull
from symbolic.web.outputs import JobBudget, OutputSettings, check_budget, tune_outputs
from symbolic.web.params import BadRequest, Choices
from symbolic.web.store import OutputStore

log = logging.getLogger(__name__)

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")
_STATIC_TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                 ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
# The page loads only its own files; stored SVGs may not run scripts even when opened directly.
_PAGE_POLICY = ("default-src 'self'; img-src 'self'; media-src 'self'; script-src 'self'; style-src 'self'; "
                "object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
_FILE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; sandbox"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]]


@dataclass(frozen=True)
class WebSettings:
    workers: int = 2
    max_queued_jobs: int = 32
    max_jobs_per_client: int = 8
    store_bytes: int = 256 * 1024 * 1024  # about 100 batches of tunes with their WAVs
    # One client's files push out its own oldest first once it holds this much of the store.
    store_bytes_per_client: int = 64 * 1024 * 1024
    body_timeout_s: float = 10.0  # a request body must arrive within this (a slow sender gets 408)
    # Host headers accepted: loopback names by default, which stops DNS-rebinding pages from
    # reaching a server bound to loopback. ("*",) accepts any (for --host 0.0.0.0).
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS


class _State:
    """What the handlers share: the model (loaded once), the queue, the store and the page."""

    def __init__(self, model: ModelFile, settings: WebSettings) -> None:
        self.model = model
        self.choices = Choices.of(model)
        self.jobs = JobQueue(settings.workers, settings.max_queued_jobs, settings.max_jobs_per_client)
        self.store = OutputStore(settings.store_bytes, settings.store_bytes_per_client)
        self.body_timeout_s = settings.body_timeout_s
        self.static = _load_static()


def create_app(model: ModelFile | str | None = None, settings: WebSettings | None = None) -> Starlette:
    """The app; `model` is a ModelFile, a model folder, or None for the bundled model."""
    settings = settings or WebSettings()
    state = _State(model if isinstance(model, ModelFile) else load_model(model), settings)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        state.jobs.start()
        try:
            yield
        finally:
            state.jobs.stop()
            state.store.close()

    def handler(function: Callable[[Request, _State], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            try:
                return await function(request, state)
            except BadRequest as error:
                # After a body timeout the rest of the body may still come: do not read it as a request.
                headers = {"Connection": "close"} if error.status == 408 else None
                return _error(error.status, error.message, headers=headers, **error.extra)
            except QueueFull as error:
                return _error(error.status, error.message, headers={"Retry-After": "2"})
            except ClientDisconnect:
                # Nobody reads the answer; one line, not a 500 and a traceback (3,000 of them made 17.7 MB).
                log.info("%s %s: the client disconnected before sending the whole body",
                         request.method, request.url.path)
                return Response(status_code=400)
        return endpoint

    routes = [
        Route("/", handler(_index), methods=["GET"]),
        Route("/static/{name}", handler(_static), methods=["GET"]),
        Route("/api/options", handler(_options), methods=["GET"]),
        Route("/api/generate", handler(_generate), methods=["POST"]),
        Route("/api/render", handler(_render), methods=["POST"]),
        Route("/api/jobs/{job_id}", handler(_job), methods=["GET"]),
        Route("/files/{file_id}", handler(_file), methods=["GET"]),
    ]
    app = Starlette(
        routes=routes, lifespan=lifespan,
        middleware=[Middleware(_SecurityHeaders), Middleware(TrustedHostMiddleware,
                                                             allowed_hosts=list(settings.allowed_hosts))],
        exception_handlers={HTTPException: _http_error, Exception: _server_error},
    )
    app.state.symbolic = state  # for tests and the load benchmark: the queue and the store
    return app


# ---------------------------------------------------------------- handlers


async def _index(request: Request, state: _State) -> Response:
    body, content_type = state.static["index.html"]
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-cache"})


async def _static(request: Request, state: _State) -> Response:
    found = state.static.get(request.path_params["name"])
    if found is None or request.path_params["name"] == "index.html":
        raise BadRequest("no such file", 404)
    return Response(found[0], media_type=found[1], headers={"Cache-Control": "no-cache"})


async def _options(request: Request, state: _State) -> Response:
    choices = state.choices
    return JSONResponse({"tune_types": choices.tune_types, "meters": choices.meters, "modes": choices.modes,
                         "keys": sorted({k for keys in FOLK_KEYS.values() for k in keys}),
                         "instruments": choices.instruments, "limits": params.limits(),
                         "model": state.model.config.arch})


async def _generate(request: Request, state: _State) -> Response:
    chosen = params.parse_generate(await _read_json(request, state), state.choices)
    tune_request = await run_in_threadpool(_check_generate, chosen, state.model)
    output = OutputSettings(chosen.instrument, chosen.tempo)
    client = _client(request)

    def work(job: Job) -> list[dict[str, Any]]:
        job.advance(f"sampling {chosen.count} tune{'s' if chosen.count > 1 else ''}")
        tunes = generate(state.model, request=tune_request)
        job.advance("sampled", 1)
        results = []
        budget = JobBudget(client)  # a sampled tune's length is known only now: checked before rendering
        for number, tune in enumerate(tunes, 1):
            job.advance(f"drawing and playing tune {number} of {len(tunes)}")
            results.append(tune_outputs(tune, write_abc(tune), output, state.store, f"tune-{number}", budget))
            job.advance(f"tune {number} of {len(tunes)} ready", 1)
        return results

    job = state.jobs.submit(client, "generate", chosen.count + 1, work)
    return JSONResponse(job.as_json(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})


async def _render(request: Request, state: _State) -> Response:
    chosen = params.parse_render(await _read_json(request, state), state.choices)
    _midi_options(chosen.instrument, chosen.tempo)
    output = OutputSettings(chosen.instrument, chosen.tempo)
    client = _client(request)
    try:
        # Reading is bounded by the text limit and the reader's own limits; still kept off the loop.
        # The budget is checked here, before queueing: a too-long tune is a 422 now, not a failed job.
        tune = await run_in_threadpool(_read_one, chosen.abc)
        await run_in_threadpool(check_budget, tune, output, JobBudget(client))
    except AbcSyntaxError as error:
        raise BadRequest(f"line {error.line}, column {error.column}: {error.reason}", 422,
                         line=error.line, column=error.column, reason=error.reason) from None
    except SymbolicError as error:
        raise BadRequest(str(error), 422) from None

    def work(job: Job) -> list[dict[str, Any]]:
        job.advance("drawing and playing the tune")
        return [tune_outputs(tune, chosen.abc, output, state.store, f"tune-{tune.reference}", JobBudget(client))]

    job = state.jobs.submit(client, "render", 1, work)
    return JSONResponse(job.as_json(), status_code=202, headers={"Location": f"/api/jobs/{job.id}"})


async def _job(request: Request, state: _State) -> Response:
    job = state.jobs.get(request.path_params["job_id"])
    if job is None:
        raise BadRequest("no such job (finished jobs are kept for a while, then forgotten)", 404)
    return JSONResponse(job.as_json(), headers={"Cache-Control": "no-store"})


async def _file(request: Request, state: _State) -> Response:
    unknown = set(request.query_params) - {"download"}
    if unknown or request.query_params.get("download", "1") not in ("0", "1"):
        raise BadRequest("the only query parameter is download=0|1")
    stored = state.store.get(request.path_params["file_id"])
    if stored is None:
        raise BadRequest("no such file (outputs are kept for a while, then forgotten)", 404)
    disposition = "attachment" if request.query_params.get("download") == "1" else "inline"
    headers = {"Content-Disposition": f'{disposition}; filename="{stored.filename}"',
               "Content-Security-Policy": _FILE_POLICY, "Cache-Control": "private, max-age=3600"}
    # Streamed from disk in chunks, with Range support (the audio element seeks): a slow reader
    # holds a chunk, not the file (8 slow readers of a 156 MB WAV once held 1.17 GB).
    try:  # evicted since the lookup: as if it had never been found
        found = await anyio.Path(stored.path).stat()
    except FileNotFoundError:
        raise BadRequest("no such file (outputs are kept for a while, then forgotten)", 404) from None
    return FileResponse(stored.path, media_type=stored.content_type, headers=headers, stat_result=found)


# ---------------------------------------------------------------- helpers


def _check_generate(chosen: params.GenerateParams, model: ModelFile) -> TuneRequest:
    """The checks `generate` makes before sampling, made now so a bad value is a 400 answer, not
    a failed job: the Request's ranges, the model's types, meters and modes, readable opening bars."""
    _midi_options(chosen.instrument, chosen.tempo)
    try:
        tune_request = TuneRequest(count=chosen.count, tune_type=chosen.tune_type, meter=chosen.meter,
                                   mode=chosen.mode, key=chosen.key, prime=chosen.prime, seed=chosen.seed,
                                   tempo=chosen.tempo, cadence=chosen.cadence, pickups=chosen.pickups,
                                   endings=chosen.endings,
                                   sampling=SamplingSettings(chosen.temperature, 0, chosen.top_p, chosen.mode_prior))
        check_request(model, tune_request)
    except SymbolicError as error:
        raise BadRequest(str(error)) from None
    return tune_request


def _midi_options(instrument: str, tempo: int | None) -> MidiOptions:
    try:
        return MidiOptions(instrument=instrument, tempo_qpm=tempo)
    except SymbolicError as error:
        raise BadRequest(str(error)) from None


def _read_one(text: str) -> Any:
    from symbolic.abc.reader import read_tune

    return read_tune(text, source="abc")


async def _read_json(request: Request, state: _State) -> object:
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        # Also stops plain cross-site form posts, which cannot send application/json.
        raise BadRequest("send the parameters as a JSON object (Content-Type: application/json)", 415)
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > params.MAX_BODY_BYTES):
        raise BadRequest(f"the request body is larger than {params.MAX_BODY_BYTES} bytes", 413)
    body = bytearray()
    with anyio.move_on_after(state.body_timeout_s) as timer:
        async for chunk in request.stream():  # a chunked body has no length to check up front
            body += chunk
            if len(body) > params.MAX_BODY_BYTES:
                raise BadRequest(f"the request body is larger than {params.MAX_BODY_BYTES} bytes", 413)
    if timer.cancelled_caught:
        raise BadRequest(f"the request body did not arrive within {state.body_timeout_s:g} s", 408)
    return params.decode_json(bytes(body))  # refuses numbers too long to parse cheaply


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _error(status: int, message: str, headers: dict[str, str] | None = None, **extra: Any) -> JSONResponse:
    return JSONResponse({"error": message, **extra}, status_code=status, headers=headers)


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = {404: "no such page", 405: "method not allowed here"}.get(status, "bad request")
    headers = dict(exc.headers or {}) if isinstance(exc, HTTPException) else None
    return _error(status, message, headers=headers)


async def _server_error(request: Request, exc: Exception) -> Response:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return _error(500, "internal error; the server log has the details")


def _load_static() -> dict[str, tuple[bytes, str]]:
    folder = resources.files("symbolic.web") / "static"
    files: dict[str, tuple[bytes, str]] = {}
    for item in folder.iterdir():
        suffix = "." + item.name.rsplit(".", 1)[-1]
        if item.is_file() and suffix in _STATIC_TYPES:
            files[item.name] = (item.read_bytes(), _STATIC_TYPES[suffix])
    if "index.html" not in files:
        raise SymbolicError("the web page is missing from the package (symbolic/web/static/index.html)")
    return files


class _SecurityHeaders:
    """Adds the page policy and no-sniffing to every answer that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Message]],
                       send: Callable[[Message], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {name.lower() for name, _ in headers}
                for name, value in ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
                                    (b"content-security-policy", _PAGE_POLICY.encode())):
                    if name not in names:
                        headers.append((name, value))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
