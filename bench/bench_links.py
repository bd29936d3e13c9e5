"""Benchmark short links on SQLite against a real ``optirace serve`` that this script starts (a fresh data directory).

Run from the repository root:  python bench/bench_links.py [--clients 16] [--requests 40] [--rounds 3] [--workers 2]

16 clients at once, each on a kept-alive connection of its own, each request timed from sending it to the last
byte of the reply; per round the median and the 99th percentile over every request of every client, then the
median of the rounds (the machine is shared: read the spread too):
  1. creation: POST /api/links of a scene no one has linked yet (each client its own seeds), an INSERT each
  2. creation again: POST /api/links of a scene already linked (a SELECT, no write)
  3. resolution: GET /s/{id} of links made in 1, the 302 to the page
  4. the QR code: GET /s/{id}.svg
Every client connects from 127.0.0.1, so the per-client rate limit is lifted for the run (OPTIRACE_LINKS_BURST).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from server.local import HOST, serving

BASE_SCENE = "landscape=bowl&steps=300&racer=sgd;lr=0.03&racer=adam;lr=0.3;schedule=cosine"


def scene(seed: int) -> bytes:
    return f"{BASE_SCENE}&seed={seed}".encode()


def timed(
    connection: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None
) -> tuple[float, int, bytes]:
    headers = {"Content-Type": "text/plain"} if body is not None else {}
    began = time.perf_counter()
    connection.request(method, path, body=body, headers=headers)
    response = connection.getresponse()
    data = response.read()
    return time.perf_counter() - began, response.status, data


def run_clients(port: int, clients: int, work: Callable[[int, http.client.HTTPConnection], list[float]]) -> list[float]:
    """``work(client, connection)`` in ``clients`` threads started together; every latency they return."""
    start = threading.Barrier(clients)
    results: list[list[float]] = [[] for _ in range(clients)]
    errors: list[BaseException] = []

    def client(index: int) -> None:
        connection = http.client.HTTPConnection(HOST, port, timeout=60)
        connection.connect()
        try:
            start.wait()
            results[index] = work(index, connection)
        except BaseException as error:  # reported after the join
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return [latency for latencies in results for latency in latencies]


def summary(latencies: list[float]) -> tuple[float, float]:
    ordered = sorted(latencies)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return statistics.median(ordered) * 1000, p99 * 1000


def measure_round(port: int, n: int, k: int, first_seed: int) -> dict[str, tuple[float, float]]:
    """One round: each measurement's (median, p99) in ms, seeds from ``first_seed`` on (new scenes each round)."""
    ids: list[list[str]] = [[] for _ in range(n)]

    def create(client: int, connection: http.client.HTTPConnection) -> list[float]:
        latencies = []
        for i in range(k):
            took, status, body = timed(connection, "POST", "/api/links", scene(first_seed + client * k + i))
            reply = json.loads(body)
            assert status == 200 and reply["created"], (status, body[:200])
            ids[client].append(reply["id"])
            latencies.append(took)
        return latencies

    def again(client: int, connection: http.client.HTTPConnection) -> list[float]:
        latencies = []
        for i in range(k):
            took, status, body = timed(connection, "POST", "/api/links", scene(first_seed + client * k + i))
            assert status == 200 and not json.loads(body)["created"], (status, body[:200])
            latencies.append(took)
        return latencies

    def resolve(client: int, connection: http.client.HTTPConnection) -> list[float]:
        latencies = []
        for i in range(k):
            took, status, _ = timed(connection, "GET", f"/s/{ids[(client + i) % n][i]}")
            assert status == 302, status
            latencies.append(took)
        return latencies

    def svg(client: int, connection: http.client.HTTPConnection) -> list[float]:
        latencies = []
        for i in range(k):
            took, status, body = timed(connection, "GET", f"/s/{ids[(client + i) % n][i]}.svg")
            assert status == 200 and body.startswith(b"<svg"), status
            latencies.append(took)
        return latencies

    return {
        name: summary(run_clients(port, n, work))
        for name, work in (("create", create), ("again", again), ("resolve", resolve), ("svg", svg))
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=40, help="requests per client per measurement and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    data_dir = tempfile.mkdtemp(prefix="optirace-bench-links-")
    os.environ.update({"OPTIRACE_DATA_DIR": data_dir, "OPTIRACE_LINKS_BURST": "1000000"})
    os.environ.pop("OPTIRACE_DATABASE_URL", None)
    n, k = args.clients, args.requests
    rows: dict[str, list[tuple[float, float]]] = {"create": [], "again": [], "resolve": [], "svg": []}
    with serving(workers=args.workers) as server:
        for round_index in range(args.rounds):
            measured = measure_round(server.port, n, k, round_index * n * k)
            for name, row in measured.items():
                rows[name].append(row)
            print(
                f"round {round_index + 1}: "
                + "  ".join(f"{name} {median:.1f}/{p99:.1f} ms" for name, [*_, (median, p99)] in rows.items()),
                flush=True,
            )
    database = Path(data_dir) / "links.sqlite3"
    labels = {
        "create": "1. creation (new link, an INSERT)",
        "again": "2. creation of a linked scene (a SELECT)",
        "resolve": "3. resolution GET /s/{id} (302)",
        "svg": "4. QR code GET /s/{id}.svg",
    }
    print(
        f"\n{n} concurrent clients × {k} requests × {args.rounds} rounds, optirace serve --workers {args.workers}, "
        f"SQLite in WAL mode ({database.stat().st_size / 1e6:.1f} MB, {args.rounds * n * k} links)"
    )
    print(f"{'':42} {'median':>10} {'p99':>10}   (median of the rounds' medians and p99s; range over rounds)")
    for name, label in labels.items():
        medians = [m for m, _ in rows[name]]
        p99s = [p for _, p in rows[name]]
        print(
            f"{label:42} {statistics.median(medians):8.1f} ms {statistics.median(p99s):8.1f} ms"
            f"   ({min(medians):.1f}–{max(medians):.1f} / {min(p99s):.1f}–{max(p99s):.1f})"
        )
    for path in Path(data_dir).iterdir():
        path.unlink()
    os.rmdir(data_dir)


if __name__ == "__main__":
    main()
