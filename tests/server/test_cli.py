"""``optirace serve``: its arguments, what it hands uvicorn, and a real server answering over loopback."""

from __future__ import annotations

import json
import socket
import tomllib
from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
import uvicorn

from server.cli import build_parser, main
from server.protocol import NoDelayHTTPProtocol
from tests.server.conftest import ROOT, strict_json


def test_the_console_script_is_the_cli() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pyproject["project"]["scripts"]["optirace"] == "server.cli:main"


def test_serve_listens_on_loopback_port_8000_with_one_worker_by_default() -> None:
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.workers, args.log_level) == ("127.0.0.1", 8000, 1, "info")


def test_serve_hands_uvicorn_the_app_and_the_nodelay_protocol(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: calls.append((args, kwargs)))
    assert main(["serve", "--host", "0.0.0.0", "--port", "9000", "--workers", "2"]) == 0
    ((args, kwargs),) = calls
    assert args == ("server.app:app",)
    assert kwargs["host"] == "0.0.0.0" and kwargs["port"] == 9000 and kwargs["workers"] == 2
    assert uvicorn.importer.import_from_string(kwargs["http"]) is NoDelayHTTPProtocol


def test_serve_refuses_zero_workers() -> None:
    with pytest.raises(SystemExit, match="at least 1"):
        main(["serve", "--workers", "0"])


@pytest.fixture
def accepted_socket() -> Iterator[socket.socket]:
    """A connection accepted on a listening socket made as uvicorn makes it for --workers: proto 0, Nagle on."""
    with socket.socket(socket.AF_INET) as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        with socket.create_connection(listening.getsockname()) as _client:
            accepted, _ = listening.accept()
            with accepted:
                yield accepted


def test_the_protocol_turns_nagle_off_on_every_connection(accepted_socket: socket.socket) -> None:
    assert accepted_socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
    extra = {"socket": accepted_socket, "sockname": accepted_socket.getsockname(), "peername": ("127.0.0.1", 1)}
    transport = SimpleNamespace(get_extra_info=lambda name, default=None: extra.get(name, default))
    config = uvicorn.Config("server.app:app")
    protocol = NoDelayHTTPProtocol(
        config=config, server_state=SimpleNamespace(connections=set(), tasks=set()), app_state={}
    )
    protocol.connection_made(transport)
    assert accepted_socket.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0


# --- a real server ----------------------------------------------------------------------------------


def test_a_real_server_answers_health_and_races(live_server: str) -> None:
    with httpx.Client(base_url=live_server, timeout=30) as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        race = client.post("/api/race", json={"steps": 50}, headers={"accept-encoding": "gzip"})
        assert race.status_code == 200 and race.headers["content-encoding"] == "gzip"
        assert len(strict_json(race.content)["racers"]) == 4
        assert (
            client.get("/api/landscapes", headers={"origin": "https://slides.example.org"}).headers[
                "access-control-allow-origin"
            ]
            == "*"
        )


def test_a_real_server_streams_line_by_line(live_server: str) -> None:
    """Over a real socket: chunked transfer, gzipped frame by frame by the route (once: no middleware on top)."""
    lines = []
    scene = {"steps": 3000, "racers": [{"optimizer": "adam"}]}
    with httpx.stream(
        "POST", f"{live_server}/api/race/stream", json=scene, headers={"accept-encoding": "gzip"}
    ) as reply:
        assert reply.headers["content-type"] == "application/x-ndjson"
        assert reply.headers.get("transfer-encoding") == "chunked" and reply.headers["content-encoding"] == "gzip"
        lines = [json.loads(line) for line in reply.iter_lines() if line]
    assert lines[0]["type"] == "header" and lines[-1]["type"] == "summary"
    assert sum(len(line["racers"][0]["path"]) for line in lines[1:-1]) == 3001
