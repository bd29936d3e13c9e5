"""Benchmark the JSON API over loopback against a real ``optirace serve`` (2 workers) that this script starts.

Run from the repository root:  python bench/bench_api.py [--rounds 5] [--repeats 40]

Two measurements (the API issue's targets in brackets), each a median per round, then the median of the
rounds (the machine is shared: read the spread too):
  1. POST /api/race, the lecture's four (SGD, Momentum, RMSProp, Adam) × 500 steps, one request at a time
     on a kept-alive connection, from sending the request to the last byte of the JSON reply     [≤ 30 ms]
     (beside it, the same race computed and serialized in this process, without HTTP)
  2. POST /api/race/stream of a 20 000-step race of the same four: the time until the first chunk line
     (not the header line) has been received whole, and until the whole stream                  [≤ 50 ms]
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
import zlib
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from load import HOST, post, serving

LECTURE = {"steps": 500}  # the default scene: the lecture's four on the default landscape
LONG = {"steps": 20_000}


def race_latency(connection: http.client.HTTPConnection, gzip: bool) -> float:
    began = time.perf_counter()
    status, body = post(connection, "/api/race", LECTURE, gzip)
    took = time.perf_counter() - began
    assert status == 200 and body, status
    return took


def stream_times(port: int) -> tuple[float, float]:
    """(first chunk line received, whole stream received), in seconds from sending the request.

    Asks for gzip, as a browser does: the stream is gzipped frame by frame and decoded here as it arrives."""
    connection = http.client.HTTPConnection(HOST, port, timeout=60)
    connection.connect()
    body = json.dumps(LONG).encode()
    headers = {"Content-Type": "application/json", "Accept-Encoding": "gzip"}
    began = time.perf_counter()
    connection.request("POST", "/api/race/stream", body=body, headers=headers)
    response = connection.getresponse()
    assert response.status == 200, response.status
    assert response.getheader("Content-Encoding") == "gzip"
    gunzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
    first_chunk = None
    types = []
    pending = b""
    while data := response.read1(1 << 16):
        *lines, pending = (pending + gunzip.decompress(data)).split(b"\n")
        for line in lines:
            kind = json.loads(line)["type"]
            types.append(kind)
            if kind == "chunk" and first_chunk is None:
                first_chunk = time.perf_counter() - began
    whole = time.perf_counter() - began
    connection.close()
    assert types[0] == "header" and types[-1] == "summary" and first_chunk is not None
    return first_chunk, whole


def in_process_ms() -> float:
    """The same lecture race, validated, computed and serialized here: what HTTP adds is the difference."""
    from core.race import run
    from core.scene import Scene
    from server.responses import dumps

    began = time.perf_counter()
    dumps(run(Scene.model_validate(LECTURE)))
    return (time.perf_counter() - began) * 1e3


def rounds_of(measure: Callable[[], float], rounds: int, repeats: int, warmup: int = 3) -> list[float]:
    for _ in range(warmup):
        measure()
    return [statistics.median(measure() for _ in range(repeats)) for _ in range(rounds)]


def report(label: str, medians_ms: list[float], target: str = "") -> None:
    spread = ", ".join(f"{m:.1f}" for m in medians_ms)
    goal = f"   target {target}" if target else ""
    print(f"{label:<52} {statistics.median(medians_ms):>7.1f} ms   rounds: {spread}{goal}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="rounds, each reporting a median (default 5)")
    parser.add_argument("--repeats", type=int, default=40, help="races per round (default 40)")
    parser.add_argument("--stream-repeats", type=int, default=5, help="20 000-step streams per round (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn workers (default 2)")
    args = parser.parse_args()
    if not (1 <= args.rounds <= 20 and 1 <= args.repeats <= 500 and 1 <= args.stream_repeats <= 50):
        parser.error("rounds in [1, 20], repeats in [1, 500], stream-repeats in [1, 50]")

    print(f"optirace serve --workers {args.workers} on {HOST}; medians of {args.rounds} rounds")
    report("in process: lecture 4 × 500, run + JSON", rounds_of(in_process_ms, args.rounds, args.repeats))
    with serving(args.workers) as server:
        port = server.port
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        for gzip in (True, False):
            medians = rounds_of(lambda gzip=gzip: race_latency(connection, gzip) * 1e3, args.rounds, args.repeats)
            report(f"POST /api/race, lecture 4 × 500, gzip {'on' if gzip else 'off'}", medians, "≤ 30 ms")
        firsts, wholes = [], []
        for _ in range(args.rounds):
            times = [stream_times(port) for _ in range(args.stream_repeats)]
            firsts.append(statistics.median(t[0] for t in times) * 1e3)
            wholes.append(statistics.median(t[1] for t in times) * 1e3)
        report("POST /api/race/stream, 4 × 20 000: first chunk", firsts, "≤ 50 ms")
        report("POST /api/race/stream, 4 × 20 000: whole stream", wholes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
