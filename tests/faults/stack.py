"""The real parts the faults suite breaks: a redis-server of its own on a free port, Celery
workers and beat as processes, and the PostgreSQL test database's connections.

Every process is started here in a session of its own and stopped by its process group id,
so killing "the whole worker" takes its pool children with it, and nothing else is touched:
never the shared Redis on 6379, never the shared PostgreSQL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg
import redis

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, sig)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=timeout)
    except ProcessLookupError:
        pass


class RedisServer:
    """A redis-server of the test's own, without persistence (a restart loses every queue)."""

    def __init__(self, directory: Path):
        self.port = free_port()
        self.directory = directory
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if client.ping():
                    return
            except redis.RedisError:
                time.sleep(0.1)
        raise RuntimeError(f"redis-server did not answer on port {self.port}")

    def kill(self) -> None:
        """Gone at once, as a crashed or restarted Redis: no shutdown, no save."""
        assert self.process is not None
        _stop(self.process, signal.SIGKILL)


class CeleryProcesses:
    """Workers and beat started with `env`; each one's output goes to a log file."""

    def __init__(self, env: dict[str, str], directory: Path):
        self.env = env
        self.directory = directory
        self.started: list[subprocess.Popen] = []

    def _start(self, name: str, arguments: list[str]) -> tuple[subprocess.Popen, Path]:
        log = self.directory / f"{name}-{len(self.started)}.log"
        process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "ppc_dashboard", *arguments],
            cwd=ROOT,
            env=self.env,
            stdout=log.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append(process)
        return process, log

    def worker(self, timeout: float = 90) -> subprocess.Popen:
        """A prefork worker with one pool child, once it is ready to take tasks."""
        process, log = self._start(
            "worker",
            [
                "worker",
                "--pool=prefork",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--hostname",
                f"faults-{uuid.uuid4().hex[:8]}@%h",
            ],
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in log.read_text(errors="replace"):
                process.log = log  # type: ignore[attr-defined]
                return process
            if process.poll() is not None:
                raise RuntimeError(f"the worker exited: {log.read_text(errors='replace')}")
            time.sleep(0.2)
        raise RuntimeError(f"the worker was not ready in {timeout:.0f} s")

    def beat(self) -> subprocess.Popen:
        process, _ = self._start(
            "beat",
            ["beat", "--loglevel=INFO", "--schedule", str(self.directory / "beat-schedule")],
        )
        return process

    def kill(self, process: subprocess.Popen) -> None:
        """SIGKILL the whole process group: the main process and its pool children."""
        _stop(process, signal.SIGKILL)

    def stop_all(self) -> None:
        for process in self.started:
            _stop(process)


def pool_children(process: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
    return [int(pid) for pid in children]


def terminate_database_connections(database: dict, keep: set[int]) -> int:
    """pg_terminate_backend on the test database's connections but `keep` (this test's own);
    returns how many were dropped."""
    with psycopg.connect(
        dbname=database["NAME"],
        host=database["HOST"] or "127.0.0.1",
        port=database["PORT"] or 5432,
        user=database["USER"] or "postgres",
        autocommit=True,
    ) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND pid <> ALL(%s)",
            [list(keep)],
        ).fetchall()
    return sum(1 for (dropped,) in rows if dropped)
