"""Real Celery processes and a private Redis for the worker tests. Every process started here is killed."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import redis

from tests.conftest import skip_or_fail
from tests.notifications.smtp import free_port

ROOT = Path(__file__).resolve().parents[2]
SHARED_REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def wait_until(predicate: Callable[[], object], timeout: float, what: str, interval: float = 0.1) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


def redis_answers(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1).ping())
    except redis.RedisError:
        return False


def require_shared_redis() -> str:
    if not redis_answers(SHARED_REDIS):
        skip_or_fail(f"Redis is not answering at {SHARED_REDIS} (set TEST_REDIS_URL)")
    return SHARED_REDIS


def forget_queue(url: str, queue: str) -> None:
    """Remove what kombu left in Redis for a test queue, so the shared server stays clean."""
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1, socket_timeout=1)
        keys = [k for k in client.scan_iter(match=f"*{queue}*", count=500)]
        if keys:
            client.delete(*keys)
    except redis.RedisError:
        pass


def _stop(proc: subprocess.Popen, grace: float = 5.0) -> None:
    """Ask the process group to stop, then kill it if it has not within `grace` seconds."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def kill_now(proc: subprocess.Popen) -> None:
    """SIGKILL the process and its whole group (a worker's pool too), as a crash or the OOM killer would."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


class PrivateRedis:
    """A throwaway redis-server on a free port (no persistence): stop it and restart it at will."""

    def __init__(self, log_dir: Path) -> None:
        if shutil.which("redis-server") is None:
            skip_or_fail("redis-server is not installed, so a private broker cannot be started")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_dir = log_dir
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        log = open(self.log_dir / f"redis-{self.starts}.log", "wb")  # noqa: SIM115 (closed with the process)
        self.proc = subprocess.Popen(
            [
                "redis-server",
                "--port", str(self.port),
                "--bind", "127.0.0.1",
                "--save", "",
                "--appendonly", "no",
                "--daemonize", "no",
                "--dir", str(self.log_dir),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        log.close()
        wait_until(lambda: redis_answers(self.url), 10, f"redis-server on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            _stop(self.proc)
            self.proc = None


class CeleryProcesses:
    """`celery -A make_celery worker` (and `beat`) as a real deployment runs them, in their own process groups."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = {**os.environ, **env, "PYTHONPATH": str(ROOT), "PYTHONUNBUFFERED": "1"}
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []

    def _spawn(self, name: str, args: list[str]) -> subprocess.Popen:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "make_celery", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs.append(proc)
        return proc

    def worker(self, queue: str) -> subprocess.Popen:
        return self._spawn(
            "worker",
            [
                "worker",
                "--pool=solo",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-Q", queue,
                "-n", f"{queue}@%h",
            ],
        )  # fmt: skip

    def beat(self) -> subprocess.Popen:
        return self._spawn(
            "beat", ["beat", "--loglevel=INFO", "-s", str(self.log_dir / "celerybeat-schedule")]
        )

    def logs(self) -> str:
        return "\n".join(
            f"--- {p.name} ---\n{p.read_text(errors='replace')[-4000:]}"
            for p in sorted(self.log_dir.glob("*.log"))
        )

    def stop(self) -> None:
        for proc in self.procs:
            _stop(proc)
        self.procs.clear()
