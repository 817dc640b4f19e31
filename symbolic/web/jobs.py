"""A bounded job queue: generation and rendering run on worker threads, never on a request.

- `workers` threads take jobs round robin between clients (the client address), in arrival order
  within a client: a client with six jobs waiting delays another client's first job by at most
  one job per client, not six (default 2 workers: CPU work on a small machine; more threads
  would only share the same cores).
- At most `max_queued` jobs wait or run at once (a full queue answers 503), and at most
  `max_per_client` of them belong to one client (429).
- Finished jobs are kept for polling, at most `max_kept` of them, oldest dropped first.
A job's `work` reports progress through `Job.advance`; a `SymbolicError` fails the job with its
message, any other exception fails it with a generic one (logged here, never sent to a client).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from symbolic.errors import SymbolicError

log = logging.getLogger(__name__)

QUEUED, RUNNING, DONE, FAILED = "queued", "running", "done", "failed"


class QueueFull(Exception):
    """No room for another job; `status` is the HTTP status to answer with."""

    def __init__(self, message: str, status: int) -> None:
        super().__init__(message)
        self.message, self.status = message, status


@dataclass
class Job:
    id: str
    client: str
    kind: str
    total: int  # progress steps
    work: Callable[[Job], list[dict[str, Any]]]
    state: str = QUEUED
    done: int = 0
    stage: str = "waiting in the queue"
    results: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    created: float = field(default_factory=time.monotonic)
    finished: float | None = None

    def advance(self, stage: str, steps: int = 0) -> None:
        # Plain attribute writes: a reader sees either the old or the new value, both valid.
        self.done = min(self.total, self.done + steps)
        self.stage = stage

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "state": self.state, "stage": self.stage,
                "progress": {"done": self.done, "total": self.total}, "results": self.results,
                "error": self.error}


class JobQueue:
    def __init__(self, workers: int = 2, max_queued: int = 32, max_per_client: int = 8, max_kept: int = 256) -> None:
        if workers < 1 or max_queued < 1 or max_per_client < 1 or max_kept < 1:
            raise ValueError("job queue sizes must be positive")
        self.workers, self.max_queued, self.max_per_client, self.max_kept = workers, max_queued, max_per_client, max_kept
        self._waiting: OrderedDict[str, deque[Job]] = OrderedDict()  # client -> its jobs; next client first
        self._jobs: OrderedDict[str, Job] = OrderedDict()
        self._active: dict[str, int] = {}  # client -> jobs queued or running
        self._lock = threading.Lock()
        self._ready = threading.Condition(self._lock)
        self._stopping = False
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        with self._lock:
            self._stopping = False
        for number in range(self.workers):
            thread = threading.Thread(target=self._run, name=f"symbolic-web-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        """Let the workers finish the jobs already queued, then end them."""
        with self._ready:
            self._stopping = True
            self._ready.notify_all()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()

    def submit(self, client: str, kind: str, total: int, work: Callable[[Job], list[dict[str, Any]]]) -> Job:
        with self._lock:
            active = sum(self._active.values())
            if active >= self.max_queued:
                raise QueueFull(f"the server is busy ({active} jobs waiting); try again shortly", 503)
            if self._active.get(client, 0) >= self.max_per_client:
                raise QueueFull(f"you already have {self.max_per_client} jobs waiting; wait for them to finish", 429)
            job = Job(secrets.token_urlsafe(16), client, kind, total, work)
            self._active[client] = self._active.get(client, 0) + 1
            self._jobs[job.id] = job
            self._forget_old()
            self._waiting.setdefault(client, deque()).append(job)
            self._ready.notify()
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    @property
    def active(self) -> int:
        with self._lock:
            return sum(self._active.values())

    def _forget_old(self) -> None:
        # Only finished jobs are dropped: a queued job must stay findable until it has run.
        excess = len(self._jobs) - self.max_kept
        for job_id in [j.id for j in self._jobs.values() if j.state in (DONE, FAILED)][:max(0, excess)]:
            del self._jobs[job_id]

    def _next(self) -> Job | None:
        """The next job, round robin between clients; None once stopping and nothing waits."""
        with self._ready:
            while not self._waiting:
                if self._stopping:
                    return None
                self._ready.wait()
            client, jobs = next(iter(self._waiting.items()))
            job = jobs.popleft()
            if jobs:
                self._waiting.move_to_end(client)  # its next job waits for every other client's
            else:
                del self._waiting[client]
            return job

    def _run(self) -> None:
        while (job := self._next()) is not None:
            job.state, job.stage = RUNNING, "starting"
            try:
                job.results = job.work(job)
                job.done, job.stage, job.state = job.total, "finished", DONE
            except SymbolicError as error:
                job.error, job.stage, job.state = str(error), "failed", FAILED
            except Exception:  # noqa: BLE001 - a bug must fail one job, not kill the worker
                log.exception("job %s failed", job.id)
                job.error, job.stage, job.state = "internal error while working on this job", "failed", FAILED
            finally:
                job.finished = time.monotonic()
                with self._lock:
                    left = self._active.get(job.client, 1) - 1
                    if left:
                        self._active[job.client] = left
                    else:
                        self._active.pop(job.client, None)
