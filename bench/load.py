"""Load test: races per second against a real ``optirace serve`` (uvicorn, 2 workers) that this script starts.

Run from the repository root:  python bench/load.py [--concurrency 1,4,8,16] [--requests 2000] [--seconds 20]

Loopback only: the server listens on 127.0.0.1 on a free port and is stopped at the end. Each level of
concurrency runs until ``--requests`` races or ``--seconds`` have passed, whichever comes first, after a
short warm-up. Every client thread keeps one HTTP/1.1 connection open and POSTs /api/race with the page's
first scene (the lecture's four × 500 steps, gzip accepted, as a browser sends it), reading each reply
whole. A 503 with Retry-After is the server refusing work past its bound (server/admission.py), counted
apart; an error is any other reply but 200, or a failed connection. The client runs on the same machine as the
server, so it takes a share of the CPU too; on a shared machine, the server's CPU time per race (read from
/proc) is the steadier number, and cores / that time the ceiling it sets.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from server.local import HOST, LocalServer, serving

LECTURE_SCENE: dict = {}  # the default scene: the lecture's four (SGD, Momentum, RMSProp, Adam) × 500 steps


def workers_cpu_seconds(server: LocalServer) -> float:
    """CPU time (user + system) used so far by the server's worker processes, from /proc (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:
            continue
        if int(fields[1]) == server.pid:  # ppid: a worker of this server
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def post(connection: http.client.HTTPConnection, path: str, body: dict, gzip: bool = True) -> tuple[int, bytes]:
    """The status and body of a POST; a 503 without Retry-After reads as 0 (an error, not a refusal)."""
    headers = {"Content-Type": "application/json"}
    if gzip:
        headers["Accept-Encoding"] = "gzip"
    connection.request("POST", path, body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    status = response.status if response.status != 503 or response.getheader("Retry-After") else 0
    return status, response.read()


@dataclass
class Level:
    concurrency: int
    latencies: list[float] = field(default_factory=list)  # seconds, successful races only
    refused: int = 0  # 503 with Retry-After: more work than the server admits at once
    errors: int = 0
    seconds: float = 0.0
    server_cpu: float = 0.0  # seconds of the workers' CPU time over the level

    @property
    def cpu_per_race(self) -> float:
        return self.server_cpu / len(self.latencies) if self.latencies else float("nan")

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def run_level(server: LocalServer, concurrency: int, requests: int, seconds: float, scene: dict, gzip: bool) -> Level:
    """``concurrency`` threads, each on its own connection, until ``requests`` races or ``seconds`` pass."""
    port = server.port
    level = Level(concurrency)
    lock = threading.Lock()
    issued = 0
    clock = {"began": 0.0, "deadline": 0.0}

    def start_clock() -> None:  # run by one thread as the barrier releases them all
        clock["cpu"] = workers_cpu_seconds(server)
        clock["began"] = time.perf_counter()
        clock["deadline"] = clock["began"] + seconds

    def client() -> None:
        nonlocal issued
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        for _ in range(2):  # warm-up, not counted
            post(connection, "/api/race", scene, gzip)
        barrier.wait()
        while True:
            with lock:
                if issued >= requests or time.perf_counter() >= clock["deadline"]:
                    return
                issued += 1
            began = time.perf_counter()
            try:
                status, _ = post(connection, "/api/race", scene, gzip)
            except (OSError, http.client.HTTPException):
                status = 0
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
            took = time.perf_counter() - began
            with lock:
                if status == 200:
                    level.latencies.append(took)
                elif status == 503:
                    level.refused += 1
                else:
                    level.errors += 1

    barrier = threading.Barrier(concurrency, action=start_clock)
    threads = [threading.Thread(target=client, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    level.seconds = time.perf_counter() - clock["began"]
    level.server_cpu = workers_cpu_seconds(server) - clock["cpu"]
    return level


def print_table(levels: list[Level]) -> None:
    columns = (
        "concurrency",
        "races",
        "seconds",
        "races/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "503s",
        "errors",
        "server CPU ms/race",
    )
    widths = (11, 6, 7, 8, 7, 7, 7, 5, 6, 18)
    print(" ".join(f"{name:>{width}}" for name, width in zip(columns, widths, strict=True)))
    for level in levels:
        print(
            f"{level.concurrency:>11} {len(level.latencies):>6} {level.seconds:>7.1f} {level.rate:>8.1f} "
            f"{level.percentile(0.5) * 1e3:>7.1f} {level.percentile(0.99) * 1e3:>7.1f} "
            f"{level.percentile(1.0) * 1e3:>7.1f} {level.refused:>5} {level.errors:>6} "
            f"{level.cpu_per_race * 1e3:>18.1f}"
        )
    cores = os.cpu_count() or 1
    best = min(level.cpu_per_race for level in levels)
    print(f"CPU-bound ceiling on {cores} cores, the load client aside: {cores / best:.0f} races/s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concurrency", default="8", help="comma-separated client threads per level (default 8)")
    parser.add_argument("--requests", type=int, default=2000, help="races per level at most (default 2000)")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per level at most (default 20)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    parser.add_argument("--steps", type=int, default=500, help="steps of the raced scene (default 500)")
    parser.add_argument("--no-gzip", action="store_true", help="do not send Accept-Encoding: gzip")
    args = parser.parse_args()
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    if min(concurrencies) < 1 or max(concurrencies) > 64 or args.requests < 1 or not 0 < args.seconds <= 300:
        parser.error("concurrency in [1, 64], requests >= 1, seconds in (0, 300]")
    scene = {**LECTURE_SCENE, "steps": args.steps}
    print(f"POST /api/race, lecture's four × {args.steps} steps, {args.workers} workers, gzip {not args.no_gzip}")
    with serving(args.workers) as server:
        levels = [run_level(server, c, args.requests, args.seconds, scene, not args.no_gzip) for c in concurrencies]
    print_table(levels)
    return 1 if any(level.errors for level in levels) else 0


if __name__ == "__main__":
    sys.exit(main())
