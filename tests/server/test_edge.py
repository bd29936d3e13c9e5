"""The edge: HEAD wherever GET is answered, trusted Host names and redirects that never repeat a Host, and what
``optirace serve`` holds its connections to (header limits, read and keep-alive timeouts, a connection cap,
two malloc arenas), tested against real servers over raw sockets."""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi.testclient import TestClient

from server.app import app
from server.cli import MALLOC_SETTINGS, main
from server.local import HOST, LocalServer, serving
from server.middleware import relative_location
from tests.server.conftest import ROOT, assert_error, strict_json

NEVER = 60  # seconds: only a broken build waits this long

# --- HEAD ----------------------------------------------------------------------------------------------------

PATH_EXAMPLES = {"name": "rosenbrock"}  # a value for each path parameter; any other gets "example"
QUERIES = {"/api/race": "steps=5", "/embed": "steps=5", "/export/": "steps=5&seed=7"}


def get_paths(routes: list[Any]) -> Iterator[str]:
    """Every path some route answers GET on, through FastAPI's included routers."""
    for route in routes:
        if hasattr(route, "original_router"):
            yield from get_paths(route.original_router.routes)
        elif "GET" in (getattr(route, "methods", None) or ()):
            yield route.path


def example_url(path: str) -> str:
    url = re.sub(r"\{(\w+)(:\w+)?\}", lambda match: PATH_EXAMPLES.get(match.group(1), "example"), path)
    query = next((query for prefix, query in QUERIES.items() if path.startswith(prefix)), "")
    return f"{url}?{query}" if query else url


GET_URLS = [example_url(path) for path in get_paths(app.router.routes)] + ["/static/main.js", "/nowhere"]


def test_every_page_probe_and_api_path_answers_get() -> None:
    """The list HEAD is checked against is the app's own, so a new page is checked as soon as it exists."""
    assert {"/", "/docs", "/embed?steps=5", "/healthz", "/readyz", "/api/race?steps=5", "/openapi.json"} <= set(
        GET_URLS
    )
    assert any(url.startswith("/export/race.gif") for url in GET_URLS)


@pytest.mark.parametrize("url", GET_URLS)
def test_head_answers_with_the_status_and_headers_of_get_and_no_body(client: TestClient, url: str) -> None:
    got = client.get(url, headers={"accept-encoding": "gzip"})
    head = client.head(url, headers={"accept-encoding": "gzip"})
    assert head.status_code == got.status_code
    assert head.content == b""
    for name in ("content-type", "content-length", "content-encoding", "etag", "cache-control"):
        assert head.headers.get(name) == got.headers.get(name), name


def test_head_where_only_post_is_answered_is_405_naming_the_methods(client: TestClient) -> None:
    reply = client.head("/api/race/stream")
    assert reply.status_code == 405
    assert reply.headers["allow"] == "POST"


# --- Host ----------------------------------------------------------------------------------------------------


@pytest.fixture
def trusted(settings_override: Callable[..., None]) -> None:
    settings_override(trusted_hosts="optirace.example.org, *.school.example")


@pytest.mark.parametrize("host", ["optirace.example.org", "OPTIRACE.example.org:8000", "a.school.example"])
def test_a_trusted_host_is_served(client: TestClient, trusted: None, host: str) -> None:
    assert client.get("/api/optimizers", headers={"host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example", "school.example", "optirace.example.org.evil.example", ""])
def test_any_other_host_gets_400_naming_the_served_ones(client: TestClient, trusted: None, host: str) -> None:
    reply = client.get("/", headers={"host": host})
    assert_error(reply, 400, "is not served here", "optirace.example.org, *.school.example", loc=["header", "host"])


def test_the_probes_answer_any_host(client: TestClient, trusted: None) -> None:
    """A load balancer probes a worker by its address."""
    assert client.get("/healthz", headers={"host": "10.0.0.7:8000"}).status_code == 200
    assert client.head("/readyz", headers={"host": "10.0.0.7:8000"}).status_code == 200


def test_every_host_is_served_by_default(client: TestClient) -> None:
    assert client.get("/api/optimizers", headers={"host": "whatever.example"}).status_code == 200


@pytest.mark.parametrize(
    ("path", "location"),
    [("/api/race/", "/api/race"), ("/api/race/?steps=5", "/api/race?steps=5"), ("/api/landscapes/", "/api/landscapes")],
)
def test_a_trailing_slash_redirect_never_names_the_requested_host(client: TestClient, path: str, location: str) -> None:
    reply = client.get(path, headers={"host": "evil.example"}, follow_redirects=False)
    assert reply.status_code == 307
    assert reply.headers["location"] == location


def test_a_relative_location_cannot_be_read_as_another_host() -> None:
    assert relative_location(b"http://evil.example//other.example/x?a=1", "evil.example") == b"/other.example/x?a=1"
    assert relative_location(b"https://docs.example/elsewhere", "evil.example") == b"https://docs.example/elsewhere"


# --- optirace serve's settings ----------------------------------------------------------------------------


def test_serve_hands_uvicorn_its_timeouts_connection_cap_and_header_limit(
    monkeypatch: pytest.MonkeyPatch, settings_override: Callable[..., None]
) -> None:
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append(kwargs))
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    settings_override(keep_alive_seconds=7, max_connections=123, max_header_bytes=9000)
    assert main(["serve"]) == 0
    (kwargs,) = calls
    assert (kwargs["timeout_keep_alive"], kwargs["limit_concurrency"], kwargs["h11_max_incomplete_event_size"]) == (
        7,
        123,
        9000,
    )
    # set before uvicorn starts its workers, which inherit them
    assert (os.environ["MALLOC_ARENA_MAX"], os.environ["MALLOC_MMAP_THRESHOLD_"]) == ("2", "262144")


def test_serve_refuses_to_start_with_a_bad_setting(
    monkeypatch: pytest.MonkeyPatch, settings_override: Callable[..., None]
) -> None:
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: pytest.fail("started"))
    monkeypatch.setenv("OPTIRACE_READ_TIMEOUT_SECONDS", "soon")
    settings_override()
    with pytest.raises(SystemExit, match="OPTIRACE_READ_TIMEOUT_SECONDS must be a float, got 'soon'"):
        main(["serve"])


def test_serve_keeps_malloc_settings_already_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "1048576")
    assert main(["serve"]) == 0
    assert (os.environ["MALLOC_ARENA_MAX"], os.environ["MALLOC_MMAP_THRESHOLD_"]) == ("4", "1048576")


def test_the_container_sets_malloc_as_serve_does() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for name, (value, _) in MALLOC_SETTINGS.items():
        assert re.search(rf"^\s+{name}={value} \\$", dockerfile, flags=re.M), name


def test_every_worker_starts_with_the_malloc_settings() -> None:
    """``optirace serve --workers 2``: each worker process has them in its environment from its start."""
    with serving(workers=2) as server:
        workers = [
            int(stat.parent.name)
            for stat in Path("/proc").glob("[0-9]*/stat")
            if _parent(stat) == server.pid and b"spawn_main" in (stat.parent / "cmdline").read_bytes()
        ]
        assert len(workers) == 2
        for pid in workers:
            environment = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            assert {b"MALLOC_ARENA_MAX=2", b"MALLOC_MMAP_THRESHOLD_=262144"} <= set(environment)


def _parent(stat: Path) -> int:
    try:
        return int(stat.read_text().rpartition(")")[2].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


# --- a real server, over raw sockets ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def edge_server() -> Iterator[LocalServer]:
    """A server whose requests must arrive whole within a second, and whose idle connections close after one."""
    with serving(env={"OPTIRACE_READ_TIMEOUT_SECONDS": "1", "OPTIRACE_KEEP_ALIVE_SECONDS": "1"}) as server:
        yield server


@pytest.fixture(scope="module")
def capped_server() -> Iterator[LocalServer]:
    """A server that serves at most three connections at once, and keeps them a long while."""
    env = {"OPTIRACE_MAX_CONNECTIONS": "3", "OPTIRACE_KEEP_ALIVE_SECONDS": "60", "OPTIRACE_READ_TIMEOUT_SECONDS": "60"}
    with serving(env=env) as server:
        yield server


def connect(server: LocalServer) -> socket.socket:
    return socket.create_connection((HOST, server.port), timeout=NEVER)


def send_all(sock: socket.socket, data: bytes) -> int:
    """Send as much of ``data`` as the server takes; the count sent before it closed the connection."""
    sent = 0
    try:
        while sent < len(data):
            sent += sock.send(data[sent : sent + 65536])
    except OSError:  # the server closed the connection (reset, or a broken pipe)
        pass
    return sent


def read_reply(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (or resets it)."""
    reply = b""
    try:
        while chunk := sock.recv(65536):
            reply += chunk
    except ConnectionResetError:
        pass
    return reply


def error_of(reply: bytes) -> tuple[int, dict[str, Any]]:
    head, _, body = reply.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), strict_json(body)


def healthy(server: LocalServer) -> bool:
    with connect(server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        return read_reply(sock).startswith(b"HTTP/1.1 200 ")


def get_with(headers: bytes) -> bytes:
    return b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" + headers + b"\r\n"


def test_a_16_mb_header_is_refused_before_the_server_has_read_it(edge_server: LocalServer) -> None:
    request = get_with(b"X-Big: " + b"a" * 16_000_000 + b"\r\n")
    with connect(edge_server) as sock:
        sent = send_all(sock, request)
        reply = read_reply(sock)
    assert sent < len(request), "the server read all 16 MB"
    if reply:  # else lost to the reset of a connection closed with unread data
        status, body = error_of(reply)
        assert (status, body["detail"][0]["type"]) == (431, "headers_too_large")
    assert healthy(edge_server)


def test_20000_headers_are_refused(edge_server: LocalServer) -> None:
    request = get_with(b"".join(b"X-%d: 1\r\n" % n for n in range(20_000)))
    with connect(edge_server) as sock:
        send_all(sock, request)
        reply = read_reply(sock)
    assert not reply or error_of(reply)[0] == 431
    assert healthy(edge_server)


def test_past_100_header_lines_a_request_gets_431_in_the_error_shape(edge_server: LocalServer) -> None:
    with connect(edge_server) as sock:
        sock.sendall(get_with(b"".join(b"X-%d: 1\r\n" % n for n in range(101))))
        status, body = error_of(read_reply(sock))
    assert status == 431
    assert body["error"] == "a request may carry at most 100 header lines"


def test_a_head_within_the_limits_is_served(edge_server: LocalServer) -> None:
    with connect(edge_server) as sock:
        sock.sendall(get_with(b"".join(b"X-%d: %s\r\n" % (n, b"v" * 100) for n in range(90))))
        assert read_reply(sock).startswith(b"HTTP/1.1 200 ")


@pytest.mark.parametrize(
    "partial",
    [
        b"",  # connected, and silent
        b"GET /healthz HTTP/1.1\r\nHost: x\r\n",  # headers begun, never ended
        b"POST /api/race HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    ],
    ids=["silent", "slow-headers", "slow-body"],
)
def test_a_slow_client_is_dropped_after_the_read_timeout_with_408(edge_server: LocalServer, partial: bytes) -> None:
    with connect(edge_server) as sock:
        sock.sendall(partial)
        status, body = error_of(read_reply(sock))  # returns once the server has closed the connection
    assert status == 408
    assert body["error"] == "the request did not arrive whole within 1 s"


def test_an_idle_kept_alive_connection_is_closed(edge_server: LocalServer) -> None:
    with connect(edge_server) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        reply = read_reply(sock)  # the reply, then nothing until the keep-alive timeout closes the connection
    assert reply.startswith(b"HTTP/1.1 200 ") and reply.endswith(b'{"status":"ok"}')


def test_past_the_connection_cap_a_request_gets_503_with_retry_after(capped_server: LocalServer) -> None:
    held = [connect(capped_server) for _ in range(3)]
    try:
        for sock in held:  # three connections served and kept alive
            sock.sendall(b"GET /api/optimizers HTTP/1.1\r\nHost: x\r\n\r\n")
            assert sock.recv(65536).startswith(b"HTTP/1.1 200 ")
        with connect(capped_server) as fourth:
            fourth.sendall(b"GET /api/optimizers HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = read_reply(fourth)
        status, body = error_of(reply)
        assert status == 503 and b"\r\nretry-after: 1\r\n" in reply.lower()
        assert body["detail"][0]["type"] == "connections_busy" and "at most 3" in body["error"]
        with connect(capped_server) as probe:  # a load balancer's probe is answered still
            probe.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert read_reply(probe).startswith(b"HTTP/1.1 200 ")
    finally:
        for sock in held:
            sock.close()
