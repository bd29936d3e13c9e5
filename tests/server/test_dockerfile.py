"""The Dockerfile, read without a Docker engine: what it copies exists, it installs and starts as the README says,
it runs as a user, and the wheel it installs carries the pages' templates and static files."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from server.cli import build_parser
from tests.server.conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
IGNORED = [
    line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()[:1] not in ("", "#")
]


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    joined = re.sub(
        r"\\\n", " ", "\n".join(line for line in DOCKERFILE.splitlines() if not line.lstrip().startswith("#"))
    )
    found = []
    for line in joined.splitlines():
        if line.strip():
            keyword, _, rest = line.strip().partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def arguments(name: str) -> list[str]:
    return [rest for keyword, rest in instructions() if keyword == name]


def readme_first_command() -> str:
    return re.search(r"```sh\n(.+?)\n```", (ROOT / "README.md").read_text(), flags=re.S).group(1)


def copied_sources() -> list[str]:
    sources = []
    for rest in arguments("COPY"):
        words = [w for w in shlex.split(rest) if not w.startswith("--")]
        sources += words[:-1]
    return sources


def test_the_base_is_the_slim_official_python() -> None:
    assert arguments("FROM") == ["python:3.11-slim"]


def test_every_copied_path_exists_and_reaches_the_build_context() -> None:
    sources = copied_sources()
    assert sources
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not any(fnmatch.fnmatch(source.rstrip("/"), pattern) for pattern in IGNORED), source


def test_everything_the_package_needs_is_copied() -> None:
    copied = {source.rstrip("/") for source in copied_sources()}
    assert {"pyproject.toml", "README.md", "core", "server", "templates", "static"} <= copied


def test_it_installs_with_the_readme_pip_command_not_editable() -> None:
    readme = readme_first_command()
    assert "pip install -e ." in readme
    assert any(re.search(r"pip install \.(\s|$)", run) for run in arguments("RUN"))


def test_the_command_is_the_readme_start_command_on_every_interface() -> None:
    (cmd,) = arguments("CMD")
    command = json.loads(cmd)  # exec form: signals reach optirace, not a shell
    assert command == ["optirace", "serve", "--host", "0.0.0.0"]
    assert "optirace serve" in readme_first_command()
    assert "optirace serve --host 0.0.0.0" in (ROOT / "README.md").read_text()
    assert build_parser().parse_args(command[1:]).host == "0.0.0.0"


def test_it_exposes_the_port_optirace_serves_on() -> None:
    assert arguments("EXPOSE") == ["8000"]
    assert build_parser().parse_args(["serve"]).port == 8000


def test_it_runs_as_a_user_made_for_it() -> None:
    order = [keyword for keyword, _ in instructions()]
    (user,) = arguments("USER")
    assert user not in ("root", "0")
    assert order.index("USER") < order.index("CMD")
    assert any("useradd" in run and user in run for run in arguments("RUN"))


def healthcheck_command() -> list[str]:
    (healthcheck,) = arguments("HEALTHCHECK")
    return json.loads(healthcheck[healthcheck.index("CMD") + 3 :].strip())


def test_the_healthcheck_asks_healthz_with_python_alone() -> None:
    command = healthcheck_command()
    assert command[:2] == ["python", "-c"]
    assert "http://127.0.0.1:8000/healthz" in command[2]
    assert not re.search(r"\b(curl|wget)\b", arguments("HEALTHCHECK")[0])


def test_the_healthcheck_passes_on_a_live_server_and_fails_without_one(live_server: str) -> None:
    code = healthcheck_command()[2]
    alive = subprocess.run([sys.executable, "-c", code.replace("http://127.0.0.1:8000", live_server)], timeout=30)
    assert alive.returncode == 0
    dead = subprocess.run(
        [sys.executable, "-c", code.replace("127.0.0.1:8000", "127.0.0.1:9")], capture_output=True, timeout=30
    )
    assert dead.returncode != 0


def test_the_wheel_carries_templates_and_static_beside_the_server_package(tmp_path: Path) -> None:
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    if build.returncode != 0:
        pytest.skip(f"pip could not build the wheel here (no build backend offline?): {build.stderr[-300:]}")
    (wheel,) = tmp_path.glob("optirace-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ("core/race.py", "server/app.py", "server/templates/index.html", "server/templates/docs.html"):
        assert path in names, path
    assert any(name.startswith("server/static/vendor/swagger-ui") for name in names)
    assert {f"server/static/{p.name}" for p in (ROOT / "static").glob("*.js")} <= names
