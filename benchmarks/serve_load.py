"""A bounded load test of `symbolic serve` on loopback (prints; not a test).

CLIENTS concurrent clients share a fixed number of requests. One request is what a musician's
click costs end to end: queue a job (every third one renders an edited tune, the others generate
one tune), poll it until done, then fetch its WAV. Printed: answered and lost requests (lost: no
HTTP answer at all, e.g. a dropped connection or a timeout), refusals (429/503) and failed jobs,
the error rate, and p50/p95/max latency per kind and overall.

    PYTHONPATH=. .venv/bin/python benchmarks/serve_load.py [--clients 8] [--requests 48] [--url URL]

Without --url it starts its own server (bundled model, default settings) on a free loopback port.

    PYTHONPATH=. .venv/bin/python benchmarks/serve_load.py --abuse [--seconds 30]

--abuse starts `symbolic serve` in its own process on 127.0.0.1 (never anything else) and, for a
bounded time with bounded counts, throws at it: idle connections (more than its cap), slow
headers, slow bodies, clients that hang up mid-body, tunes that would render for an hour, long
renders up to the budget from one address (127.0.0.2), and slow readers of a WAV. Meanwhile an
ordinary client (127.0.0.1) asks for the options and generates tunes. Printed: what each abuse
got back, the server's RSS and open descriptors (before, peak, after), its log's size and
tracebacks, and the ordinary client's latencies.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from symbolic.web.app import create_app  # noqa: E402
from symbolic.web.server import background_server  # noqa: E402

JOB_TIMEOUT_S = 300.0
POLL_S = 0.1


@dataclass
class Outcome:
    kind: str
    status: str  # "ok", "refused 429", "failed job", "lost: ...", ...
    seconds: float


def one_request(http: httpx.Client, number: int, abc: str) -> Outcome:
    kind = "render" if number % 3 == 2 else "generate"
    started = time.perf_counter()
    try:
        if kind == "render":
            answer = http.post("/api/render", json={"abc": abc.replace("T:", f"T:Load {number} ", 1)})
        else:
            answer = http.post("/api/generate", json={"tune_type": "jig" if number % 2 else "reel", "seed": number})
        if answer.status_code != 202:
            return Outcome(kind, f"refused {answer.status_code}", time.perf_counter() - started)
        job = answer.json()
        deadline = time.monotonic() + JOB_TIMEOUT_S
        while job["state"] in ("queued", "running"):
            if time.monotonic() > deadline:
                return Outcome(kind, "lost: job timeout", time.perf_counter() - started)
            time.sleep(POLL_S)
            polled = http.get(f"/api/jobs/{job['id']}")
            if polled.status_code != 200:
                return Outcome(kind, f"poll {polled.status_code}", time.perf_counter() - started)
            job = polled.json()
        if job["state"] != "done":
            return Outcome(kind, "failed job", time.perf_counter() - started)
        wav = http.get(f"/files/{job['results'][0]['files']['wav']}")
        ok = wav.status_code == 200 and wav.content[:4] == b"RIFF"
        return Outcome(kind, "ok" if ok else f"file {wav.status_code}", time.perf_counter() - started)
    except httpx.HTTPError as error:
        return Outcome(kind, f"lost: {type(error).__name__}", time.perf_counter() - started)


def run(base_url: str, clients: int, requests: int) -> list[Outcome]:
    with httpx.Client(base_url=base_url, timeout=60) as http:
        # A real tune to edit, made before the clock starts.
        first = http.post("/api/generate", json={"tune_type": "jig", "seed": 0}).json()
        while first["state"] in ("queued", "running"):
            time.sleep(POLL_S)
            first = http.get(f"/api/jobs/{first['id']}").json()
        abc = first["results"][0]["abc"]
    numbers = iter(range(requests))
    lock = threading.Lock()
    outcomes: list[Outcome] = []

    def client() -> None:
        with httpx.Client(base_url=base_url, timeout=60) as http:  # one connection pool per client
            while True:
                with lock:
                    number = next(numbers, None)
                if number is None:
                    return
                outcome = one_request(http, number, abc)
                with lock:
                    outcomes.append(outcome)

    threads = [threading.Thread(target=client) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def report(outcomes: list[Outcome], requests: int, clients: int, wall: float) -> None:
    lost = [o for o in outcomes if o.status.startswith("lost")]
    answered = len(outcomes) - len(lost)
    errors = [o for o in outcomes if o.status != "ok"]
    print(f"{clients} clients, {requests} requests in {wall:.1f} s ({len(outcomes) / wall:.2f} requests/s)")
    print(f"answered {answered}, lost {len(lost) + requests - len(outcomes)}, "
          f"error rate {len(errors) / max(1, len(outcomes)):.1%}")
    for status, count in sorted(Counter(o.status for o in outcomes).items()):
        print(f"  {status:<20} {count}")
    print(f"{'kind':<10} {'n':>4} {'p50 s':>7} {'p95 s':>7} {'max s':>7}")
    for kind in ("generate", "render", "all"):
        times = [o.seconds for o in outcomes if o.status == "ok" and kind in (o.kind, "all")]
        if times:
            print(f"{kind:<10} {len(times):>4} {statistics.median(times):>7.2f} {percentile(times, 0.95):>7.2f} "
                  f"{max(times):>7.2f}")


# ---------------------------------------------------------------- --abuse

# Q:1/4=4: about an hour of audio from a few hundred bytes (refused by the budget: 422).
HOUR_TUNE = "X:1\nT:Hour\nM:4/4\nL:1/1\nQ:1/4=4\nK:D\n" + "|".join(["D E F G"] * 12) + "|\n"
# 65 whole notes at 60 a minute: 4 min 21 s with the tail, just inside the 5-minute budget.
LONG_TUNE = "X:1\nT:Long\nM:4/4\nL:1/1\nQ:1/4=60\nK:D\n" + " ".join("DEFGABc"[i % 7] for i in range(65)) + "|\n"
ABUSER = "127.0.0.2"  # all of 127/8 is loopback on Linux: a second client address, same machine


class ServerProcess:
    """`symbolic serve --port 0` in its own process, so that its RSS and descriptors are its own."""

    def __init__(self) -> None:
        code = "import sys; from symbolic.cli.main import main; sys.exit(main(['serve', '--port', '0']))"
        # The server's stderr (its log) goes to a file, measured at the end; closed in stop().
        self.log = tempfile.NamedTemporaryFile("w", prefix="symbolic-abuse-", suffix=".log", delete=False)  # noqa: SIM115
        self.log_path = Path(self.log.name)
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
        self.process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=self.log,
                                        text=True, env=env)
        line = self.process.stdout.readline() if self.process.stdout else ""
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        if not found:
            self.stop()
            raise RuntimeError(f"the server did not start: {line!r}")
        self.url, self.port = found.group(0).rstrip("/"), int(found.group(1))

    def rss_mb(self) -> float:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024  # type: ignore[union-attr]

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.process.pid}/fd"))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        self.log.close()


def connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=10, source_address=(source, 0))
    return connection


def first_line(connection: socket.socket, wait: float) -> str:
    """The status line the server sent, 'closed' if it closed without one, 'held' if neither."""
    connection.settimeout(wait)
    try:
        data = connection.recv(256)
    except TimeoutError:
        return "held"
    except OSError as error:
        return type(error).__name__
    return data.split(b"\r\n", 1)[0].decode(errors="replace")[9:] or "closed" if data else "closed"


def abuse(seconds: float, idle: int, slow: int, hangups: int, downloads: int) -> int:
    server = ServerProcess()
    port, counts, lock = server.port, Counter[str](), threading.Lock()
    samples: list[tuple[float, float, int]] = []
    ordinary: dict[str, list[float]] = {"options": [], "generate": []}
    stop, readers_ready = threading.Event(), threading.Event()

    def note(what: str) -> None:
        with lock:
            counts[what] += 1

    def sample() -> None:
        while not stop.is_set():
            samples.append((time.monotonic(), server.rss_mb(), server.fds()))
            stop.wait(0.25)

    def idle_connections() -> None:  # more than the 256 the server keeps open
        # Started once the slow readers hold their downloads: while the flood lasts (up to the
        # header timeout) new connections get a 503.
        readers_ready.wait(30)
        held = []
        for _ in range(idle):
            try:
                held.append(connect(port))
            except OSError as error:
                note(f"idle: connect {type(error).__name__}")
        time.sleep(0.5)
        for connection in held:
            note(f"idle: {first_line(connection, 15)}")
            connection.close()

    def slow_headers() -> None:  # one header byte a second
        connections = [connect(port) for _ in range(slow)]
        for connection in connections:
            connection.setblocking(False)
        ends = time.monotonic() + min(seconds, 20)
        while time.monotonic() < ends and connections:
            for connection in list(connections):
                try:
                    connection.send(b"X")
                except OSError:
                    note("slow headers: closed by the server")
                    connections.remove(connection)
                    connection.close()
            time.sleep(1)
        for connection in connections:
            note("slow headers: still open at the end")
            connection.close()

    def slow_bodies() -> None:  # a declared 1000-byte body sent at a byte a second
        def one() -> None:
            with connect(port) as connection:
                connection.sendall(b"POST /api/generate HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                                   b"application/json\r\nContent-Length: 1000\r\n\r\n{")
                connection.settimeout(1)
                ends = time.monotonic() + min(seconds, 20)
                while time.monotonic() < ends:
                    try:
                        data = connection.recv(256)
                        note(f"slow body: {data.split(b' ', 2)[1].decode() if data else 'closed'}")
                        return
                    except TimeoutError:
                        connection.sendall(b" ")
                note("slow body: still open at the end")
        threads = [threading.Thread(target=one) for _ in range(slow)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def hang_ups() -> None:  # half a body, then gone
        for _ in range(hangups):
            try:
                with connect(port) as connection:
                    connection.sendall(b"POST /api/render HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                                       b"application/json\r\nContent-Length: 4000\r\n\r\n" + b'{"abc": "X:1' * 100)
                note("hang-up sent")
            except OSError as error:
                note(f"hang-up: {type(error).__name__}")

    def long_renders() -> None:  # from the abuser's address: hour-long tunes, then the budget's worth
        transport = httpx.HTTPTransport(local_address=ABUSER)
        with httpx.Client(base_url=server.url, timeout=30, transport=transport) as http:
            for _ in range(20):
                note(f"hour-long render: {http.post('/api/render', json={'abc': HOUR_TUNE}).status_code}")
            ends = time.monotonic() + seconds
            while time.monotonic() < ends and not stop.is_set():
                note(f"4-minute render: {http.post('/api/render', json={'abc': LONG_TUNE}).status_code}")
                time.sleep(0.05)

    def slow_downloads() -> None:  # readers that take a few bytes of a WAV and stop reading
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for _ in range(40):  # the hang-up burst can fill the connection table for a moment
                answer = http.post("/api/render", json={"abc": LONG_TUNE})
                if answer.status_code != 503:
                    break
                time.sleep(0.5)
            job = answer.json()
            while job.get("state") in ("queued", "running"):
                time.sleep(0.2)
                job = http.get(f"/api/jobs/{job['id']}").json()
        if job.get("state") != "done":
            note(f"slow download: no file ({job.get('error') or job})")
            readers_ready.set()
            return
        wav = job["results"][0]["files"]["wav"]
        readers = []
        for _ in range(downloads):
            connection = connect(port)
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            connection.sendall(f"GET /files/{wav} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            connection.recv(1024)
            readers.append(connection)
        note(f"slow download: {len(readers)} readers of a 4-minute WAV holding")
        readers_ready.set()
        stop.wait(min(seconds, 20))
        for connection in readers:
            connection.close()

    def ordinary_client() -> None:
        with httpx.Client(base_url=server.url, timeout=120) as http:
            number = 0
            while not stop.is_set():
                try:
                    started = time.perf_counter()
                    answer = http.get("/api/options")
                    if answer.status_code == 200:
                        ordinary["options"].append(time.perf_counter() - started)
                    else:
                        note(f"ordinary options: {answer.status_code}")
                    if number % 4 == 0:
                        started = time.perf_counter()
                        answer = http.post("/api/generate", json={"tune_type": "reel", "seed": number})
                        job = answer.json() if answer.status_code == 202 else {"state": answer.status_code}
                        while job.get("state") in ("queued", "running"):
                            time.sleep(POLL_S)
                            job = http.get(f"/api/jobs/{job['id']}").json()
                        if job.get("state") == "done":
                            ordinary["generate"].append(time.perf_counter() - started)
                        else:
                            note(f"ordinary generate: {job.get('error') or job.get('state')}")
                except (httpx.HTTPError, ValueError) as error:
                    note(f"ordinary: {type(error).__name__}")
                number += 1
                stop.wait(0.5)

    try:
        time.sleep(1)
        before_rss, before_fds = server.rss_mb(), server.fds()
        monitor = threading.Thread(target=sample, daemon=True)
        monitor.start()
        started = time.monotonic()
        attackers = [threading.Thread(target=work) for work in
                     (idle_connections, slow_headers, slow_bodies, hang_ups, long_renders, slow_downloads)]
        helper = threading.Thread(target=ordinary_client)
        for thread in [*attackers, helper]:
            thread.start()
        time.sleep(seconds)
        stop.set()
        for thread in [*attackers, helper]:
            thread.join(120)
        wall = time.monotonic() - started
        time.sleep(1)
        after_rss, after_fds = server.rss_mb(), server.fds()
    finally:
        stop.set()
        server.stop()
    log = server.log_path.read_text(errors="replace")
    server.log_path.unlink()
    print(f"abuse for {wall:.0f} s against symbolic serve on 127.0.0.1 (pid {server.process.pid})")
    for what, count in sorted(counts.items()):
        print(f"  {what:<55} {count}")
    peak_rss = max(rss for _, rss, _ in samples)
    peak_fds = max(fds for _, _, fds in samples)
    print(f"server RSS: {before_rss:.0f} MB before, {peak_rss:.0f} MB peak, {after_rss:.0f} MB after")
    print(f"server open descriptors: {before_fds} before, {peak_fds} peak, {after_fds} after")
    print(f"server log: {len(log)} bytes, {log.count('Traceback')} tracebacks")
    for kind, times in ordinary.items():
        if times:
            print(f"ordinary {kind:<9} n={len(times):<3} p50 {statistics.median(times):.2f} s, "
                  f"p95 {percentile(times, 0.95):.2f} s, max {max(times):.2f} s")
        else:
            print(f"ordinary {kind:<9} none completed")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=48, help="total, shared by the clients (48)")
    parser.add_argument("--url", help="an already running server (default: start one on loopback)")
    parser.add_argument("--abuse", action="store_true", help="the abuse mode (see above); loopback only")
    parser.add_argument("--seconds", type=float, default=30.0, help="how long the abuse lasts (at most 120)")
    parser.add_argument("--idle", type=int, default=400, help="idle connections opened (at most 2000)")
    parser.add_argument("--slow", type=int, default=20, help="slow-header and slow-body clients each (at most 100)")
    parser.add_argument("--hangups", type=int, default=500, help="mid-body hang-ups (at most 5000)")
    parser.add_argument("--downloads", type=int, default=8, help="slow WAV readers (at most 50)")
    args = parser.parse_args()
    if args.abuse:
        if args.url:
            parser.error("--abuse starts its own server on 127.0.0.1; it takes no --url")
        if not (0 < args.seconds <= 120 and 0 <= args.idle <= 2000 and 0 <= args.slow <= 100
                and 0 <= args.hangups <= 5000 and 0 <= args.downloads <= 50):
            parser.error("--abuse is bounded: --seconds 1..120, --idle 0..2000, --slow 0..100, "
                         "--hangups 0..5000, --downloads 0..50")
        return abuse(args.seconds, args.idle, args.slow, args.hangups, args.downloads)
    if args.clients < 1 or args.requests < 1:
        parser.error("--clients and --requests must be positive")
    if args.url:
        started = time.perf_counter()
        outcomes = run(args.url, args.clients, args.requests)
    else:
        with background_server(create_app()) as base_url:
            started = time.perf_counter()
            outcomes = run(base_url, args.clients, args.requests)
    report(outcomes, args.requests, args.clients, time.perf_counter() - started)
    return 0 if all(o.status == "ok" for o in outcomes) and len(outcomes) == args.requests else 1


if __name__ == "__main__":
    sys.exit(main())
