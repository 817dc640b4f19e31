"""A bounded load test of `symbolic serve` on loopback (prints; not a test).

CLIENTS concurrent clients share a fixed number of requests. One request is what a musician's
click costs end to end: queue a job (every third one renders an edited tune, the others generate
one tune), poll it until done, then fetch its WAV. Printed: answered and lost requests (lost: no
HTTP answer at all, e.g. a dropped connection or a timeout), refusals (429/503) and failed jobs,
the error rate, and p50/p95/max latency per kind and overall.

    PYTHONPATH=. .venv/bin/python benchmarks/serve_load.py [--clients 8] [--requests 48] [--url URL]

Without --url it starts its own server (bundled model, default settings) on a free loopback port.
"""

from __future__ import annotations

import argparse
import statistics
import sys
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=48, help="total, shared by the clients (48)")
    parser.add_argument("--url", help="an already running server (default: start one on loopback)")
    args = parser.parse_args()
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
