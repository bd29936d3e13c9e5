"""Soak: a class's mixed workload against a real ``optirace serve --workers 2`` that this script starts, for a
bounded time; how latency, errors, the health check and each worker's memory hold up.

Run from the repository root:  python bench/soak.py [--seconds 300] [--workers 2] [--peaks]

Loopback only: the server listens on 127.0.0.1 on a free port, every loop is bounded by the clock, and the
server is stopped at the end. The workload, each kind in threads of its own, each pausing between requests:

  race      POST /api/race, the page's default scene (the lecture's four × 500 steps), gzip accepted
  query     GET /api/race?<the page's query>, as the page's first race
  stream    POST /api/race/stream, 4 × 5 000 steps (the page's long races), read to the end
  big       POST /api/race, 16 × 20 000 steps (the largest race allowed), read whole
  bigstream POST /api/race/stream, 16 × 20 000 steps, read to the end
  sweep     POST /api/sweep, the default scene's racers at 32 learning rates
  export    GET /export/race.png and race.gif, a new seed each time (never from the cache)
  invalid   bad requests: an unknown optimizer, too many steps, a body too large, not JSON (each must get its 4xx)
  abandon   POST /api/race/stream, 16 × 20 000 steps, closed after its first line: one every few seconds, and two
            bursts of 50 at once (at 30 % and 70 % of the run)
  healthz   GET /healthz on a new connection every 50 ms, from a process of its own (so that the client's
            own threads do not delay it)

The default races are timed from a process of their own too. A reply counts as an error unless it is what was
asked for (200; a 4xx for an invalid request) or a deliberate 503 with Retry-After (counted apart). Each
worker's RSS is read from /proc every two seconds; its growth over the second half compares its mean over the
last tenth of the run with its mean around the middle (45-55 %): one reading swings with the requests in
flight. The machine's other load shows in the numbers: read them beside the load averages printed before and
after. ``--peaks`` first serves each of the largest requests alone (race, query race, stream, sweep, GIF
export) on a fresh one-worker server, and prints its worker's peak RSS.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import socket
import statistics
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from server.local import HOST, LocalServer, serving

LECTURE: dict[str, Any] = {}  # the default scene: the lecture's four × 500 steps
PAGE_QUERY = "landscape=rosenbrock&steps=500&racer=sgd;lr=0.001&racer=momentum;lr=0.001&racer=adam;lr=0.05"
LONG_RACERS = [{"optimizer": name} for name in ("sgd", "momentum", "rmsprop", "adam")]
MEDIUM = {"steps": 5000}
LARGEST = {"steps": 20_000, "racers": LONG_RACERS * 4}
INVALID = [
    ("POST", "/api/race", json.dumps({"racers": [{"optimizer": "adan"}]}).encode(), 422),
    ("POST", "/api/race", json.dumps({"steps": 10**6}).encode(), 422),
    ("POST", "/api/race", b"{" + b" " * 300_000 + b"}", 413),
    ("POST", "/api/race/stream", b"not json", 422),
    ("GET", "/api/race?racer=sgd;lr=-1", None, 422),
]
BURST = 50
PROBE_EVERY = 0.05  # seconds between /healthz probes
RSS_EVERY = 2.0  # seconds between RSS readings


# --- the client ---------------------------------------------------------------------------------------------


@dataclass
class Result:
    kind: str
    began: float  # seconds since the run began
    seconds: float
    status: int  # 0: no reply (a failed connection)
    ok: bool  # what was asked for
    busy: bool = False  # a deliberate 503 with Retry-After


def request(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Accept-Encoding": "gzip"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


class Client:
    """Threads of one kind of request, each on a kept-alive connection, until the deadline."""

    def __init__(self, port: int, epoch: float, deadline: float) -> None:
        self.port = port
        self.epoch = epoch
        self.deadline = deadline
        self.results: list[Result] = []
        self.lock = threading.Lock()
        self.threads: list[threading.Thread] = []

    def record(self, result: Result) -> None:
        with self.lock:
            self.results.append(result)

    def timed(self, kind: str, connection: http.client.HTTPConnection, method: str, path: str, body: Any) -> bool:
        """One request; False if the connection must be made anew."""
        data = body if isinstance(body, (bytes, type(None))) else json.dumps(body).encode()
        began = time.perf_counter()
        try:
            status, headers, _ = request(connection, method, path, data)
        except (OSError, http.client.HTTPException):
            self.record(Result(kind, began - self.epoch, time.perf_counter() - began, 0, False))
            return False
        took = time.perf_counter() - began
        busy = status == 503 and "retry-after" in headers
        self.record(Result(kind, began - self.epoch, took, status, status == 200, busy))
        return headers.get("connection", "").lower() != "close"

    def loop(self, kind: str, pause: float, make: Any) -> None:
        def run() -> None:
            connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
            n = 0
            while time.perf_counter() < self.deadline:
                method, path, body = make(n)
                n += 1
                if not self.timed(kind, connection, method, path, body):
                    connection.close()
                    connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
                time.sleep(pause)
            connection.close()

        thread = threading.Thread(target=run, name=kind, daemon=True)
        thread.start()
        self.threads.append(thread)

    def invalid(self, pause: float) -> None:
        def run() -> None:
            n = 0
            while time.perf_counter() < self.deadline:
                method, path, body, expected = INVALID[n % len(INVALID)]
                n += 1
                connection = http.client.HTTPConnection(HOST, self.port, timeout=60)
                began = time.perf_counter()
                try:
                    status, _, _ = request(connection, method, path, body)
                except (OSError, http.client.HTTPException):
                    status = 0
                connection.close()
                took = time.perf_counter() - began
                self.record(Result("invalid", began - self.epoch, took, status, status == expected))
                time.sleep(pause)

        thread = threading.Thread(target=run, name="invalid", daemon=True)
        thread.start()
        self.threads.append(thread)

    def stream(self, kind: str, scene: dict[str, Any], abandon: bool) -> None:
        """One stream: read to the end, or closed after its first line (``abandon``)."""
        began = time.perf_counter()
        try:
            with socket.create_connection((HOST, self.port), timeout=60) as sock:
                body = json.dumps(scene).encode()
                sock.sendall(
                    b"POST /api/race/stream HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                    + body
                )
                received = b""
                while b"\r\n\r\n" not in received:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise OSError("closed before the reply's head")
                    received += chunk
                status = int(received.split(b" ", 2)[1])
                busy = status == 503 and b"\r\nretry-after:" in received.lower()
                if status == 200:
                    _, _, rest = received.partition(b"\r\n\r\n")
                    if abandon:
                        while b"\n" not in rest.partition(b"\r\n")[2]:  # the first line of the first chunk
                            chunk = sock.recv(65536)
                            if not chunk:
                                raise OSError("closed before the first line")
                            rest += chunk
                    else:  # Connection: close, so the stream ends with the connection
                        tail = rest[-16:]
                        while chunk := sock.recv(1 << 20):
                            tail = (tail + chunk)[-16:]
                        if not tail.endswith(b"0\r\n\r\n"):
                            raise OSError("closed before the end of the stream")
        except (OSError, ValueError, IndexError):
            self.record(Result(kind, began - self.epoch, time.perf_counter() - began, 0, False))
            return
        self.record(Result(kind, began - self.epoch, time.perf_counter() - began, status, status == 200, busy))

    def streams(self, kind: str, scene: dict[str, Any], pause: float, abandon: bool) -> None:
        def run() -> None:
            while time.perf_counter() < self.deadline:
                self.stream(kind, scene, abandon)
                time.sleep(pause)

        thread = threading.Thread(target=run, name=kind, daemon=True)
        thread.start()
        self.threads.append(thread)

    def burst(self, at: float) -> tuple[float, float]:
        """``BURST`` abandoned long streams at once, ``at`` seconds into the run; returns when it began and ended."""
        time.sleep(max(0.0, self.epoch + at - time.perf_counter()))
        began = time.perf_counter() - self.epoch
        threads = [
            threading.Thread(target=self.stream, args=("burst", LARGEST, True), daemon=True) for _ in range(BURST)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return began, time.perf_counter() - self.epoch

    def join(self) -> None:
        for thread in self.threads:
            thread.join()


def probe_health(port: int, epoch_wall: float, deadline_wall: float, out: Any) -> None:
    """In a process of its own: GET /healthz on a new connection every PROBE_EVERY seconds; (began, seconds, ok)."""
    samples = []
    while time.time() < deadline_wall:
        began = time.time()
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=30)
            connection.request("GET", "/healthz")
            response = connection.getresponse()
            ok = response.status == 200 and response.read() == b'{"status":"ok"}'
            connection.close()
        except (OSError, http.client.HTTPException):
            ok = False
        samples.append((began - epoch_wall, time.time() - began, ok))
        time.sleep(max(0.0, PROBE_EVERY - (time.time() - began)))
    out.send(samples)
    out.close()


def time_default_races(port: int, epoch_wall: float, deadline_wall: float, threads: int, out: Any) -> None:
    """In a process of its own: ``threads`` loops of the default race, a short pause between; (began, s, status)."""
    samples: list[tuple[float, float, int, bool]] = []
    lock = threading.Lock()

    def run() -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        body = json.dumps(LECTURE).encode()
        while time.time() < deadline_wall:
            began = time.time()
            try:
                status, headers, _ = request(connection, "POST", "/api/race", body)
            except (OSError, http.client.HTTPException):
                status, headers = 0, {}
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=60)
            with lock:
                samples.append((began - epoch_wall, time.time() - began, status, "retry-after" in headers))
            time.sleep(0.1)

    workers = [threading.Thread(target=run, daemon=True) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    out.send(samples)
    out.close()


# --- the server's memory --------------------------------------------------------------------------------------


def worker_pids(server: LocalServer) -> list[int]:
    """uvicorn's worker processes: the supervisor's children started by multiprocessing's spawn."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rpartition(")")[2].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if ppid == server.pid and b"spawn_main" in command:
            pids.append(int(stat.parent.name))
    return sorted(pids) or [server.pid]


def memory_kb(pid: int, key: str) -> int:
    """A /proc/<pid>/status field in kB: VmRSS (now) or VmHWM (the peak)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


@dataclass
class Memory:
    pids: list[int]
    readings: list[tuple[float, list[int]]] = field(default_factory=list)  # (seconds, kB per worker)
    peaks: list[int] = field(default_factory=list)  # kB per worker: the highest RSS so far (VmHWM)

    def sample(self, epoch: float, deadline: float) -> None:
        while True:
            now = time.perf_counter()
            self.readings.append((now - epoch, [memory_kb(pid, "VmRSS") for pid in self.pids]))
            self.peaks = [memory_kb(pid, "VmHWM") for pid in self.pids]
            if now >= deadline:
                return
            time.sleep(min(RSS_EVERY, max(0.0, deadline - now)))


# --- the report ---------------------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def print_kinds(results: list[Result]) -> int:
    by_kind: dict[str, list[Result]] = defaultdict(list)
    for result in results:
        by_kind[result.kind].append(result)
    print(f"{'kind':<10} {'requests':>8} {'ok':>6} {'503':>5} {'errors':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    errors = 0
    for kind, rows in by_kind.items():
        good = [r.seconds * 1e3 for r in rows if r.ok]
        busy = sum(r.busy for r in rows)
        bad = sum(not r.ok and not r.busy for r in rows)
        errors += bad
        print(
            f"{kind:<10} {len(rows):>8} {len(good):>6} {busy:>5} {bad:>6} "
            f"{percentile(good, 0.5):>8.1f} {percentile(good, 0.99):>8.1f} {max(good, default=float('nan')):>8.1f}"
        )
        if bad:
            statuses = sorted({r.status for r in rows if not r.ok and not r.busy})
            print(f"{'':<10} error statuses: {statuses} (0: no reply)")
    return errors


def print_health(samples: list[tuple[float, float, bool]], bursts: list[tuple[float, float]]) -> float:
    """Probe latency overall and during each burst; returns the worst p99 in ms."""

    def line(label: str, rows: list[tuple[float, float, bool]]) -> float:
        ms = [s * 1e3 for _, s, ok in rows if ok]
        failed = sum(not ok for _, _, ok in rows)
        p99 = percentile(ms, 0.99)
        print(
            f"  {label:<34} probes {len(rows):>5}  failed {failed:>3}  p50 {percentile(ms, 0.5):>6.1f} ms  "
            f"p99 {p99:>6.1f} ms  max {max(ms, default=float('nan')):>6.1f} ms"
        )
        return p99 if not failed else float("inf")

    print("GET /healthz (a new connection each time):")
    worst = line("whole run", samples)
    for n, (began, ended) in enumerate(bursts, 1):
        during = [s for s in samples if began <= s[0] <= ended + 1.0]
        worst = max(worst, line(f"burst {n} of {BURST} abandoned streams ({ended - began:.1f} s)", during))
    return worst


def print_memory(memory: Memory, seconds: float) -> float:
    """RSS per worker over time, the growth over the second half and the peaks; returns the worst growth (%)."""
    print("RSS per worker, MB:")
    step = max(1, len(memory.readings) // 20)
    for at, kbs in memory.readings[::step] + ([memory.readings[-1]] if len(memory.readings) % step != 1 else []):
        print(f"  {at:>6.0f} s  " + "  ".join(f"{kb / 1024:>7.1f}" for kb in kbs))
    middle = [kbs for at, kbs in memory.readings if 0.45 * seconds <= at <= 0.55 * seconds]
    tail = [kbs for at, kbs in memory.readings if at >= 0.9 * seconds]
    worst = 0.0
    for i, pid in enumerate(memory.pids):
        before, end = statistics.mean(kbs[i] for kbs in middle), statistics.mean(kbs[i] for kbs in tail)
        growth = (end - before) / before * 100
        worst = max(worst, growth)
        peak = memory.peaks[i] / 1024
        print(
            f"  worker {pid}: {before / 1024:.1f} MB around the middle (45-55 %), {end / 1024:.1f} MB over the last "
            f"tenth ({growth:+.1f} %); peak RSS {peak:.1f} MB"
        )
    return worst


LARGEST_QUERY = "steps=20000&" + "&".join(f"racer={racer['optimizer']}" for racer in LARGEST["racers"])
LARGEST_REQUESTS = [
    ("POST /api/race, 16 × 20 000", "POST", "/api/race", LARGEST),
    ("GET /api/race?<16 × 20 000>", "GET", f"/api/race?{LARGEST_QUERY}", None),
    ("POST /api/race/stream, 16 × 20 000", "POST", "/api/race/stream", LARGEST),
    ("POST /api/sweep, 4 racers × 256 rates × 2 000", "POST", "/api/sweep", {"count": 256, "scene": {"steps": 2000}}),
    ("GET /export/race.gif?<16 × 20 000>", "GET", f"/export/race.gif?{LARGEST_QUERY}", None),
]


def measure_peaks() -> None:
    """Each of the largest requests alone, on a fresh one-worker server: its RSS before, and its peak RSS."""
    print("peak RSS of one worker serving the largest request of each kind, alone (a fresh server each):")
    for label, method, path, body in LARGEST_REQUESTS:
        with serving(1) as server:
            pid = worker_pids(server)[0]
            before = memory_kb(pid, "VmRSS")
            connection = http.client.HTTPConnection(HOST, server.port, timeout=300)
            status, _, data = request(connection, method, path, None if body is None else json.dumps(body).encode())
            connection.close()
            peak, after = memory_kb(pid, "VmHWM"), memory_kb(pid, "VmRSS")
        print(
            f"  {label:<46} {status}  {len(data) / 1e6:>5.1f} MB sent gzipped; RSS {before / 1024:.0f} MB before, "
            f"peak {peak / 1024:.0f} MB (+{(peak - before) / 1024:.0f}), {after / 1024:.0f} MB after"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="how long the soak runs (default 300)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    parser.add_argument(
        "--peaks", action="store_true", help="first, each largest request alone on a fresh server: its peak RSS"
    )
    args = parser.parse_args()
    if not 20 <= args.seconds <= 3600 or not 1 <= args.workers <= 8:
        parser.error("seconds in [20, 3600], workers in [1, 8]")
    seconds = args.seconds
    print(
        f"soak: optirace serve --workers {args.workers} on {HOST}, {seconds:.0f} s; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )

    if args.peaks:
        measure_peaks()
    context = multiprocessing.get_context("spawn")
    with serving(args.workers) as server:
        epoch, epoch_wall = time.perf_counter(), time.time()
        deadline, deadline_wall = epoch + seconds, epoch_wall + seconds
        health_in, health_out = context.Pipe(duplex=False)
        races_in, races_out = context.Pipe(duplex=False)
        prober = context.Process(target=probe_health, args=(server.port, epoch_wall, deadline_wall, health_out))
        racer = context.Process(target=time_default_races, args=(server.port, epoch_wall, deadline_wall, 4, races_out))
        prober.start()
        racer.start()

        client = Client(server.port, epoch, deadline)
        client.loop("query", 0.5, lambda n: ("GET", f"/api/race?{PAGE_QUERY}&seed={n % 50}", None))
        client.loop("query", 0.5, lambda n: ("GET", f"/api/race?{PAGE_QUERY}&seed={50 + n % 50}", None))
        client.loop("big", 2.0, lambda n: ("POST", "/api/race", {**LARGEST, "seed": n}))
        client.loop("sweep", 1.0, lambda n: ("POST", "/api/sweep", {"count": 32, "scene": {"seed": n}}))
        client.loop(
            "export",
            2.0,
            lambda n: ("GET", f"/export/race.{'gif' if n % 2 else 'png'}?steps=200&noise=0.1&seed={n}", None),
        )
        client.invalid(0.5)
        client.streams("stream", MEDIUM, 1.0, abandon=False)
        client.streams("bigstream", LARGEST, 3.0, abandon=False)
        client.streams("abandon", LARGEST, 3.0, abandon=True)
        memory = Memory(worker_pids(server))
        sampler = threading.Thread(target=memory.sample, args=(epoch, deadline), daemon=True)
        sampler.start()
        bursts = [client.burst(0.3 * seconds), client.burst(0.7 * seconds)]
        client.join()
        sampler.join()
        health = health_in.recv()
        races = races_in.recv()
        prober.join()
        racer.join()
        results = client.results + [
            Result("race", began, took, status, status == 200, status == 503 and busy)
            for began, took, status, busy in races
        ]

    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    errors = print_kinds(results)
    worst_health = print_health(health, bursts)
    growth = print_memory(memory, seconds)
    race_ms = [r.seconds * 1e3 for r in results if r.kind == "race" and r.ok]
    checks = [
        (errors == 0, f"errors outside deliberate 503s: {errors} (target 0)"),
        (worst_health <= 50, f"/healthz p99, worst of the run and each burst: {worst_health:.1f} ms (target ≤ 50)"),
        (percentile(race_ms, 0.99) <= 250, f"default race p99: {percentile(race_ms, 0.99):.1f} ms (target ≤ 250)"),
        (growth < 5, f"worker RSS growth over the second half, worst worker: {growth:+.1f} % (target < 5 %)"),
    ]
    for passed, text in checks:
        print(f"{'PASS' if passed else 'FAIL'}  {text}")
    return 0 if all(passed for passed, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
