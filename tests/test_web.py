"""`symbolic serve` at the HTTP level: a real uvicorn on loopback, driven with httpx.

Every endpoint, every class of bad parameter (wrong type, out of range, unknown value, unknown
field, unreadable ABC), traversal attempts on the file routes, oversized and chunked bodies, the
Host check and the job caps. Bad input must get a 4xx JSON answer with a message: never a 500,
never a traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import socket
import threading
import time
from collections.abc import Iterator

import pytest

pytest.importorskip("starlette", reason="the web extra is not installed: pip install -e '.[web]'")
httpx = pytest.importorskip("httpx", reason="httpx is not installed: pip install -e '.[dev]'")

from symbolic.cli import web as cli_web  # noqa: E402
from symbolic.errors import SymbolicError  # noqa: E402
from symbolic.web import params  # noqa: E402
from symbolic.web.app import WebSettings, create_app  # noqa: E402
from symbolic.web.jobs import DONE, FAILED, JobQueue, QueueFull  # noqa: E402
from symbolic.web.outputs import (  # noqa: E402
    MAX_AUDIO_SECONDS,
    BudgetError,
    JobBudget,
    OutputSettings,
    check_budget,
    tune_outputs,
)
from symbolic.web.server import ServerLimits, background_server, uvicorn_config  # noqa: E402
from symbolic.web.store import OutputStore  # noqa: E402

JOB_TIMEOUT_S = 60


@pytest.fixture(scope="module")
def app():  # type: ignore[no-untyped-def]
    return create_app()


@pytest.fixture(scope="module")
def client(app) -> Iterator[httpx.Client]:  # type: ignore[no-untyped-def]
    with background_server(app) as base_url, httpx.Client(base_url=base_url, timeout=30) as http:
        yield http


def wait(client: httpx.Client, job: dict) -> dict:
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while job["state"] in ("queued", "running"):
        assert time.monotonic() < deadline, f"job still {job['state']} after {JOB_TIMEOUT_S} s"
        time.sleep(0.1)
        answer = client.get(f"/api/jobs/{job['id']}")
        assert answer.status_code == 200
        job = answer.json()
    return job


@pytest.fixture(scope="module")
def generated(client: httpx.Client) -> dict:
    answer = client.post("/api/generate", json={"tune_type": "jig", "key": "G", "seed": 7, "count": 1,
                                                "instrument": "flute", "tempo": 120, "temperature": 0.9,
                                                "top_p": 0.9})
    assert answer.status_code == 202, answer.text
    assert answer.headers["location"] == f"/api/jobs/{answer.json()['id']}"
    job = wait(client, answer.json())
    assert job["state"] == DONE, job["error"]
    return job


def refused(answer: httpx.Response, status: int = 400) -> str:
    """A refusal as the page expects it: the status, JSON with a message, nothing internal."""
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/json")
    message = answer.json()["error"]
    assert message and "Traceback" not in answer.text and "File \"" not in answer.text
    return message


# ---------------------------------------------------------------- the page and its files


def test_page_and_static_files_with_a_strict_policy(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert 'id="controls"' in page.text and "/static/app.js" in page.text
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-content-type-options"] == "nosniff"
    script = client.get("/static/app.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert client.get("/static/style.css").headers["content-type"].startswith("text/css")


@pytest.mark.parametrize("path", ["/static/nothing.js", "/static/app.py", "/static/..%2Fapp.py",
                                  "/static/%2e%2e%2f%2e%2e%2fcli.py", "/static/..%5C..%5Cpyproject.toml",
                                  "/static/%2Fetc%2Fpasswd", "/static/app.js%00.css"])
def test_static_files_only_by_known_name(client: httpx.Client, path: str) -> None:
    refused(client.get(path), 404)


def test_options_list_what_the_model_knows_and_the_limits(client: httpx.Client) -> None:
    options = client.get("/api/options").json()
    assert "jig" in options["tune_types"] and "reel" in options["tune_types"]
    assert "6/8" in options["meters"] and "none" not in options["meters"]
    assert "dorian" in options["modes"] and "fiddle" in options["instruments"]
    assert options["limits"]["max_tunes"] == params.MAX_TUNES_PER_JOB


# ---------------------------------------------------------------- generate, files, render


def test_generate_gives_abc_score_midi_and_wav(client: httpx.Client, generated: dict) -> None:
    assert generated["progress"]["done"] == generated["progress"]["total"] == 2
    (tune,) = generated["results"]
    assert tune["abc"].startswith("X:1\n") and "K:G" in tune["abc"] and "R:jig" in tune["abc"]
    expected = {"abc": ("text/vnd.abc", b"X:1"), "svg": ("image/svg+xml", b"<?xml"),
                "mid": ("audio/midi", b"MThd"), "wav": ("audio/wav", b"RIFF")}
    for kind, (content_type, start) in expected.items():
        answer = client.get(f"/files/{tune['files'][kind]}")
        assert answer.status_code == 200 and answer.headers["content-type"].startswith(content_type)
        assert answer.content.startswith(start), kind
        assert answer.headers["content-disposition"].startswith("inline")
        download = client.get(f"/files/{tune['files'][kind]}", params={"download": "1"})
        assert download.headers["content-disposition"] == f'attachment; filename="tune-1.{kind}"'
    svg = client.get(f"/files/{tune['files']['svg']}")
    assert svg.text.count('xlink:href="#') > 20  # note heads, stems, bars drawn by abcm2ps
    assert "sandbox" in svg.headers["content-security-policy"]  # no script runs even if opened directly
    assert client.get(f"/files/{tune['files']['wav']}").content[8:12] == b"WAVE"


def test_render_edited_abc(client: httpx.Client, generated: dict) -> None:
    abc = generated["results"][0]["abc"].replace("T:", "T:Edited ", 1)
    answer = client.post("/api/render", json={"abc": abc, "instrument": "tin whistle", "tempo": 90})
    assert answer.status_code == 202, answer.text
    job = wait(client, answer.json())
    assert job["state"] == DONE, job["error"]
    (tune,) = job["results"]
    assert tune["title"].startswith("Edited ") and tune["abc"] == abc
    assert tune["files"]["wav"] != generated["results"][0]["files"]["wav"]
    assert client.get(f"/files/{tune['files']['mid']}").content.startswith(b"MThd")


def test_render_syntax_error_names_line_and_column(client: httpx.Client) -> None:
    answer = client.post("/api/render", json={"abc": "X:1\nT:Broken\nM:6/8\nK:D\nABc d}e|\n"})
    message = refused(answer, 422)
    body = answer.json()
    assert (body["line"], body["column"]) == (5, 6) and "'}'" in body["reason"]
    assert message.startswith("line 5, column 6:")


def test_render_of_an_unreadable_header_is_a_422(client: httpx.Client) -> None:
    answer = client.post("/api/render", json={"abc": "X:1\nT:Bad key\nK:Q\nabc|\n"})
    refused(answer, 422)
    assert answer.json()["line"] == 3


# ---------------------------------------------------------------- bad parameters


@pytest.mark.parametrize(("body", "names"), [
    ({"count": 0}, "count"), ({"count": params.MAX_TUNES_PER_JOB + 1}, "count"), ({"count": "2"}, "count"),
    ({"count": 2.5}, "count"), ({"count": True}, "count"),
    ({"temperature": 0}, "temperature"), ({"temperature": 6}, "temperature"), ({"temperature": "hot"}, "temperature"),
    ({"top_p": 0}, "top_p"), ({"top_p": 1.5}, "top_p"), ({"top_p": [0.5]}, "top_p"),
    ({"seed": -1}, "seed"), ({"seed": 2**40}, "seed"), ({"seed": 1.5}, "seed"),
    ({"tempo": 10}, "tempo"), ({"tempo": 500}, "tempo"), ({"tempo": "fast"}, "tempo"),
    ({"tune_type": "jog"}, "tune_type"), ({"tune_type": 3}, "tune_type"), ({"tune_type": "x" * 100}, "tune_type"),
    ({"meter": "7/0"}, "meter"), ({"meter": "none"}, "meter"), ({"mode": "happy"}, "mode"),
    ({"key": "H"}, "key"), ({"key": "Dbb"}, "key"), ({"key": "D\n"}, "key"), ({"key": "../etc"}, "key"),
    ({"instrument": "kazoo"}, "instrument"), ({"instrument": {"name": "fiddle"}}, "instrument"),
    ({"prime": "a" * (params.MAX_PRIME_CHARACTERS + 1)}, "prime"), ({"prime": "ab\x00c"}, "prime"),
    ({"prime": "|:GAB c}BA|"}, "opening bars"), ({"prime": 42}, "prime"),
    ({"temprature": 1.0}, "unknown field"), ({"__class__": 1}, "unknown field"),
    ({"mode_prior": -1}, "mode_prior"), ({"mode_prior": 99}, "mode_prior"), ({"cadence": "yes"}, "cadence"),
    ({"pickups": 1}, "pickups"),
])
def test_generate_refuses_bad_parameters(client: httpx.Client, body: dict, names: str) -> None:
    assert names in refused(client.post("/api/generate", json=body))


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e999"])
def test_non_finite_numbers_are_refused(client: httpx.Client, number: bytes) -> None:
    """Python's json reads NaN and Infinity; a range check must still refuse them."""
    content = b'{"temperature": ' + number + b"}"
    assert "temperature" in refused(client.post("/api/generate", content=content,
                                                headers={"content-type": "application/json"}))


@pytest.mark.parametrize(("body", "names"), [
    ({}, "abc"), ({"abc": ""}, "abc"), ({"abc": "   \n"}, "abc"), ({"abc": 5}, "abc"),
    ({"abc": "X:1\nK:D\n" + "a" * params.MAX_ABC_CHARACTERS}, "abc"), ({"abc": "X:1\nK:D\nab\x1bc|"}, "abc"),
    ({"abc": "X:1\nK:D\nabc|", "instrument": "kazoo"}, "instrument"), ({"abc": "X:1\nK:D\nabc|", "tempo": 1000}, "tempo"),
    ({"abc": "X:1\nK:D\nabc|", "path": "/etc/passwd"}, "unknown field"),
])
def test_render_refuses_bad_parameters(client: httpx.Client, body: dict, names: str) -> None:
    assert names in refused(client.post("/api/render", json=body))


@pytest.mark.parametrize("endpoint", ["/api/generate", "/api/render"])
@pytest.mark.parametrize(("content", "status"), [
    (b"[1, 2]", 400), (b'"jig"', 400), (b"null", 400), (b"{not json", 400), (b"\xff\xfe{}", 400),
    (b"[" * 20_000 + b"]" * 20_000, 400),  # deep nesting: a RecursionError inside json must stay a 400
])
def test_bodies_that_are_not_a_json_object(client: httpx.Client, endpoint: str, content: bytes, status: int) -> None:
    refused(client.post(endpoint, content=content, headers={"content-type": "application/json"}), status)


@pytest.mark.parametrize("endpoint", ["/api/generate", "/api/render"])
def test_bodies_must_be_declared_json(client: httpx.Client, endpoint: str) -> None:
    refused(client.post(endpoint, content=b"count=1", headers={"content-type": "application/x-www-form-urlencoded"}), 415)
    refused(client.post(endpoint, content=b"{}"), 415)


@pytest.mark.parametrize("endpoint", ["/api/generate", "/api/render"])
def test_oversized_bodies(client: httpx.Client, endpoint: str) -> None:
    big = json.dumps({"abc": "a" * (params.MAX_BODY_BYTES + 10)}).encode()
    assert "larger than" in refused(client.post(endpoint, content=big, headers={"content-type": "application/json"}), 413)

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit must hold while streaming
        yield b'{"abc": "'
        for _ in range(params.MAX_BODY_BYTES // 4096 + 2):
            yield b"a" * 4096
        yield b'"}'

    refused(client.post(endpoint, content=chunks(), headers={"content-type": "application/json"}), 413)


# ---------------------------------------------------------------- jobs, files, traversal


@pytest.mark.parametrize("job_id", ["nope", "A" * 22, "..%2F..%2Fetc%2Fpasswd", "%00", "x" * 500])
def test_unknown_jobs(client: httpx.Client, job_id: str) -> None:
    refused(client.get(f"/api/jobs/{job_id}"), 404)


@pytest.mark.parametrize("path", [
    "/files/A", "/files/" + "A" * 22, "/files/..%2F..%2F..%2Fetc%2Fpasswd", "/files/%2Fetc%2Fpasswd",
    "/files/..%5C..%5Cwindows%5Cwin.ini", "/files/%2e%2e%2f%2e%2e%2fpyproject.toml", "/files/tune-1.wav",
    "/files/~root%2F.bashrc", "/files/" + "%2e" * 200,
])
def test_files_only_from_the_store(client: httpx.Client, path: str) -> None:
    refused(client.get(path), 404)


def test_traversal_outside_the_routes(client: httpx.Client) -> None:
    for path in ["/../../etc/passwd", "/files/../pyproject.toml", "/static/../../symbolic/cli.py", "/etc/passwd"]:
        # Sent verbatim: httpx would otherwise clean the dots away before they reach the server.
        answer = client.send(client.build_request("GET", httpx.URL(client.base_url.join("/"), raw_path=path.encode())))
        assert answer.status_code in (400, 404), (path, answer.status_code)
        assert "root:" not in answer.text and "[project]" not in answer.text


def test_file_query_parameters_are_checked(client: httpx.Client, generated: dict) -> None:
    file_id = generated["results"][0]["files"]["abc"]
    refused(client.get(f"/files/{file_id}", params={"download": "yes"}))
    refused(client.get(f"/files/{file_id}", params={"path": "/etc/passwd"}))


def test_wrong_methods_and_unknown_pages(client: httpx.Client) -> None:
    refused(client.get("/api/generate"), 405)
    refused(client.delete("/api/jobs/abc"), 405)
    refused(client.put("/files/abc"), 405)
    refused(client.get("/admin"), 404)


def test_host_header_must_be_loopback(client: httpx.Client) -> None:
    """A DNS-rebinding page reaches a loopback server under its own host name; it is refused."""
    answer = client.get("/api/options", headers={"host": "evil.example:8000"})
    assert answer.status_code == 400
    assert client.get("/api/options", headers={"host": "localhost:8000"}).status_code == 200


def test_caps_per_client_and_in_all(app, client: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    """Jobs held open by the test fill the caps; the next request is refused with a reason."""
    jobs = app.state.symbolic.jobs
    release = threading.Event()

    def hold(job):  # type: ignore[no-untyped-def]
        release.wait(JOB_TIMEOUT_S)
        return []

    deadline = time.monotonic() + JOB_TIMEOUT_S
    while jobs.active and time.monotonic() < deadline:  # earlier tests' jobs finish first
        time.sleep(0.05)
    held = []
    try:
        for _ in range(jobs.max_per_client):
            held.append(jobs.submit("127.0.0.1", "test", 1, hold))
        answer = client.post("/api/generate", json={"tune_type": "reel"})
        assert "already have" in refused(answer, 429) and answer.headers["retry-after"]
        for number in range(jobs.max_queued - jobs.active):
            held.append(jobs.submit(f"10.0.0.{number}", "test", 1, hold))
        assert "busy" in refused(client.post("/api/render", json={"abc": "X:1\nK:D\nabc|"}), 503)
    finally:
        release.set()
    deadline = time.monotonic() + JOB_TIMEOUT_S
    while jobs.active and time.monotonic() < deadline:
        time.sleep(0.05)
    assert jobs.active == 0


# ---------------------------------------------------------------- parts, without HTTP


def test_job_queue_failures_keep_the_worker_alive() -> None:
    jobs = JobQueue(workers=1, max_queued=4, max_per_client=4)
    jobs.start()
    try:
        def user_error(job):  # type: ignore[no-untyped-def]
            raise SymbolicError("the tune has no bars")

        def bug(job):  # type: ignore[no-untyped-def]
            raise KeyError("secret internal detail")

        first, second = jobs.submit("a", "t", 1, user_error), jobs.submit("a", "t", 1, bug)
        third = jobs.submit("a", "t", 2, lambda job: [{"ok": True}])
        deadline = time.monotonic() + 10
        while third.state != DONE and time.monotonic() < deadline:
            time.sleep(0.01)
        assert (first.state, first.error) == (FAILED, "the tune has no bars")
        assert second.state == FAILED and "secret" not in (second.error or "")
        assert third.results == [{"ok": True}] and third.done == 2
    finally:
        jobs.stop()
    with pytest.raises(QueueFull):
        small = JobQueue(workers=1, max_queued=1, max_per_client=1)
        small.submit("a", "t", 1, lambda job: [])
        small.submit("b", "t", 1, lambda job: [])


def test_output_store_is_bounded_and_ids_are_random() -> None:
    store = OutputStore(max_bytes=10)
    first = store.put(b"123456", "text/plain", "a.txt")
    second = store.put(b"7890", "text/plain", "b.txt")
    assert first != second and len(first) == 22
    third = store.put(b"abc", "text/plain", "c.txt")  # evicts the oldest to stay within 10 bytes
    assert store.get(first) is None and store.get(second) and store.get(third) and store.size == 7
    assert store.get("../" + second) is None
    with pytest.raises(ValueError):
        store.put(b"x" * 11, "text/plain", "big.txt")


def test_serve_command_defaults_to_loopback() -> None:
    parser = argparse.ArgumentParser(prog="symbolic")
    cli_web.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["serve"])
    assert (args.host, args.port, args.model) == ("127.0.0.1", 8000, None) and args.handler
    args = parser.parse_args(["serve", "--host", "::1", "--port", "0", "--model", "m"])
    assert (args.host, args.port, args.model) == ("::1", 0, "m")
    with pytest.raises(SystemExit):
        parser.parse_args(["serve", "--port", "70000"])
    assert cli_web.is_loopback("127.0.0.1") and cli_web.is_loopback("::1") and cli_web.is_loopback("localhost")
    assert not cli_web.is_loopback("0.0.0.0") and not cli_web.is_loopback("example.org")


def test_serve_refuses_a_port_in_use_with_one_line() -> None:
    parser = argparse.ArgumentParser(prog="symbolic")
    cli_web.register(parser.add_subparsers(dest="command"))
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        args = parser.parse_args(["serve", "--port", str(taken.getsockname()[1])])
        with pytest.raises(SymbolicError, match="cannot listen on 127.0.0.1:"):
            args.handler(args)


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError):
        JobQueue(workers=0)
    assert WebSettings().allowed_hosts[0] == "127.0.0.1"


# ---------------------------------------------------------------- budgets, fairness, limits (issue 16, items 6-7)

# 346 bytes of ABC that played 59 minutes (a 156 MB WAV) before the budget.
SLOW_TUNE = "X:1\nT:Slow\nM:4/4\nL:1/1\nQ:1/4=4\nK:D\n" + "|".join(["D E F G"] * 12) + "|\n"


def test_render_of_a_too_long_tune_is_refused_before_rendering(app, client: httpx.Client) -> None:  # type: ignore[no-untyped-def]
    started = time.monotonic()
    answer = client.post("/api/render", json={"abc": SLOW_TUNE})
    message = refused(answer, 422)
    assert "at most 5 min" in message and "plays for" in message
    assert time.monotonic() - started < 5  # refused from the MIDI's length, nothing rendered
    # The tempo field counts too: a normal tune slowed to 20 quarter notes a minute is over as well.
    long_reel = "X:1\nT:Reel\nM:4/4\nL:1/8\nK:D\n" + "|:" + "|".join(["ABcd efge"] * 16) + ":|\n" * 2
    refused(client.post("/api/render", json={"abc": long_reel, "tempo": 20}), 422)
    assert client.post("/api/render", json={"abc": long_reel, "tempo": 120}).status_code == 202


def test_job_budget_is_checked_before_anything_is_drawn_or_rendered() -> None:
    from symbolic.abc.reader import read_tune

    settings, store = OutputSettings("fiddle", None), OutputStore(1 << 20)
    try:
        with pytest.raises(BudgetError, match="at most 5 min"):
            tune_outputs(read_tune(SLOW_TUNE), SLOW_TUNE, settings, store, "slow")
        short = read_tune("X:1\nT:Short\nL:1/4\nK:D\nDEFG|\n")
        assert check_budget(short, settings, JobBudget()) < MAX_AUDIO_SECONDS
        with pytest.raises(BudgetError, match="outputs would pass"):  # a job that has spent its bytes
            tune_outputs(short, "X:1", settings, store, "short", JobBudget(bytes_left=1_000))
        assert store.size == 0
    finally:
        store.close()


def test_jobs_are_taken_round_robin_between_clients() -> None:
    """A client with four jobs waiting delays another client's job by one job, not four."""
    jobs = JobQueue(workers=1, max_queued=8, max_per_client=8)
    order: list[str] = []
    submitted = [jobs.submit(client, "t", 1, lambda job, name=name: order.append(name) or [])
                 for client, name in [("a", "a1"), ("a", "a2"), ("a", "a3"), ("a", "a4"), ("b", "b1")]]
    jobs.start()
    try:
        deadline = time.monotonic() + 10
        while any(job.state != DONE for job in submitted) and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        jobs.stop()
    assert order == ["a1", "b1", "a2", "a3", "a4"]


def test_one_clients_files_do_not_evict_everyone_elses() -> None:
    store = OutputStore(max_bytes=100, max_bytes_per_owner=40)
    try:
        others = [store.put(b"o" * 10, "text/plain", "o.txt", owner) for owner in ("b", "c")]
        for _ in range(10):  # 100 bytes from one client: only its own oldest files make way
            store.put(b"a" * 10, "text/plain", "a.txt", "a")
        assert all(store.get(file_id) for file_id in others)
        assert store.owned("a") == 40 and store.size == 60
        with pytest.raises(ValueError):
            store.put(b"x" * 41, "text/plain", "big.txt", "a")
        # Files live in the store's private folder, named by id; evicted ones are deleted.
        assert sorted(p.name for p in store.folder.iterdir()) == sorted(store._files)
    finally:
        store.close()
    assert not store.folder.exists()


def test_downloads_stream_from_disk_with_ranges(app, client: httpx.Client, generated: dict) -> None:  # type: ignore[no-untyped-def]
    wav_id = generated["results"][0]["files"]["wav"]
    stored = app.state.symbolic.store.get(wav_id)
    assert stored.path.is_file() and stored.path.parent == app.state.symbolic.store.folder
    whole = client.get(f"/files/{wav_id}")
    assert whole.headers["accept-ranges"] == "bytes" and int(whole.headers["content-length"]) == stored.size
    part = client.get(f"/files/{wav_id}", headers={"range": "bytes=0-11"})
    assert part.status_code == 206 and part.content == whole.content[:12] and part.content[8:12] == b"WAVE"


def raw_connection(base_url: str) -> socket.socket:
    url = httpx.URL(base_url)
    connection = socket.create_connection((url.host, url.port), timeout=5)
    return connection


def test_a_client_that_hangs_up_mid_body_is_one_log_line(client: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with raw_connection(str(client.base_url)) as connection:
        connection.sendall(b"POST /api/render HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           b"Content-Length: 5000\r\n\r\n" + b'{"abc": "X:1')
        time.sleep(0.2)
    deadline = time.monotonic() + 5
    while not any("disconnected" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
        time.sleep(0.05)
    lines = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert len(lines) == 1 and lines[0].levelno == logging.INFO and lines[0].exc_info is None
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert client.get("/api/options").status_code == 200


@pytest.fixture(scope="module")
def strict_server() -> Iterator[str]:
    """A server with tight limits, so the timeouts and the connection cap show in a test's time."""
    app = create_app(settings=WebSettings(body_timeout_s=0.5))
    with background_server(app, limits=ServerLimits(max_connections=6, header_timeout_s=0.5)) as base_url:
        yield base_url


def closed_within(connection: socket.socket, seconds: float) -> bytes | None:
    """What the server sent before closing, or None if it still holds the connection."""
    connection.settimeout(seconds)
    received = b""
    try:
        while chunk := connection.recv(4096):
            received += chunk
    except TimeoutError:
        return None
    return received


def test_idle_and_slow_header_connections_are_closed(strict_server: str) -> None:
    """Before the header timeout uvicorn held a connection that sent nothing for ever."""
    with raw_connection(strict_server) as idle, raw_connection(strict_server) as slow:
        slow.sendall(b"GET /api/options HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # the headers never end
        assert closed_within(idle, 3) == b""
        assert closed_within(slow, 3) == b""
    with raw_connection(strict_server) as polite:  # a request after an idle pause is still answered
        time.sleep(0.2)
        polite.sendall(b"GET /api/options HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        assert (closed_within(polite, 5) or b"").startswith(b"HTTP/1.1 200")


def test_a_body_that_does_not_arrive_in_time_is_a_408(strict_server: str) -> None:
    with raw_connection(strict_server) as connection:
        connection.sendall(b"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                           b"Content-Length: 100\r\n\r\n{")
        answer = closed_within(connection, 5)
    assert answer is not None and answer.startswith(b"HTTP/1.1 408") and b"did not arrive within" in answer


def test_connections_beyond_the_cap_get_a_503_and_are_closed(strict_server: str) -> None:
    held = [raw_connection(strict_server) for _ in range(6)]
    try:
        time.sleep(0.1)
        with raw_connection(strict_server) as extra:
            answer = closed_within(extra, 3)
        assert answer is not None and answer.startswith(b"HTTP/1.1 503") and b"too many connections" in answer
    finally:
        for connection in held:
            connection.close()
    time.sleep(0.2)
    assert httpx.get(f"{strict_server}/api/options").status_code == 200


def test_uvicorn_runs_with_limits(app) -> None:  # type: ignore[no-untyped-def]
    config = uvicorn_config(app)
    assert config.http.max_connections == ServerLimits().max_connections
    assert config.timeout_keep_alive == ServerLimits().keep_alive_s
    assert config.h11_max_incomplete_event_size == ServerLimits().max_header_bytes
    assert config.http.header_timeout_s == ServerLimits().header_timeout_s


def test_generate_takes_the_musical_controls() -> None:
    choices = params.Choices(("jig",), ("6/8",), ("major", "dorian"), ("fiddle",))
    chosen = params.parse_generate({"tune_type": "jig", "mode_prior": 5, "cadence": False, "pickups": False}, choices)
    assert (chosen.mode_prior, chosen.cadence, chosen.pickups) == (5.0, False, False)
    assert params.parse_generate({}, choices).cadence is True

