"""``optirace serve`` on a free loopback port for as long as a block runs: for benchmarks and end-to-end tests.

Also the Chromium flags those benchmarks and tests launch the browser with.

    with serving(workers=2) as server:
        urllib.request.urlopen(f"{server.url}/healthz")

The server is a child process of its own session, stopped (its workers with it) when the block ends.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
# Debian's Chromium, headless, as root, with its background connections off (this machine's network is closed).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class LocalServer:
    port: int
    pid: int  # the uvicorn supervisor's (with one worker, the worker's)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


@contextmanager
def serving(workers: int = 1, timeout: float = 60.0, env: dict[str, str] | None = None) -> Iterator[LocalServer]:
    """``optirace serve --workers N`` on 127.0.0.1, a free port; yields once every worker has answered a race.

    ``env`` adds to the environment it is started with, e.g. ``{"OPTIRACE_READ_TIMEOUT_SECONDS": "1"}``."""
    port = free_port()
    command = [sys.executable, "-m", "server.cli", "serve", "--host", HOST, "--port", str(port)]
    command += ["--workers", str(workers), "--log-level", "warning"]
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    env = {**os.environ, **(env or {}), "PYTHONPATH": path}
    process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + timeout
        while not _answers(port, "GET", "/healthz"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"optirace serve did not come up on port {port}")
            time.sleep(0.1)
        for _ in range(4 * workers):  # fresh connections, so that every worker has imported the app
            _answers(port, "POST", "/api/race", b'{"steps": 10}')
        yield LocalServer(port, process.pid)
    finally:
        process.terminate()  # uvicorn's supervisor stops its workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the session started here, and nothing else
            process.wait()


def _answers(port: int, method: str, path: str, body: bytes | None = None) -> bool:
    try:
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        connection.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        return connection.getresponse().status == 200
    except OSError:
        return False
