"""Short links deployed: the Docker image keeps them on a volume its user can write, the installed package carries
the schema's migrations, and the README names the settings and how to back the links up."""

from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from server.links import MIGRATIONS
from server.settings import Settings
from tests.server.conftest import ROOT
from tests.server.test_dockerfile import arguments, instructions

README = (ROOT / "README.md").read_text()


def test_the_image_declares_the_data_volume_and_points_the_store_at_it() -> None:
    assert arguments("VOLUME") == ['["/data"]']
    assert "OPTIRACE_DATA_DIR=/data" in arguments("ENV")


def test_the_images_user_owns_the_data_volume() -> None:
    steps = instructions()
    user_index = steps.index(("USER", "optirace"))
    made = [rest for keyword, rest in steps[:user_index] if keyword == "RUN" and "/data" in rest]
    assert made and re.search(r"chown optirace(:optirace)? /data", made[0])
    volume_index = steps.index(("VOLUME", '["/data"]'))
    assert steps.index(("RUN", made[0])) < volume_index  # owned before the volume is declared: a new volume copies it


def test_the_wheel_carries_the_migrations(tmp_path: Path) -> None:
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
    expected = {
        f"server/links_migrations/{path.relative_to(MIGRATIONS).as_posix()}"
        for path in MIGRATIONS.rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert "server/links_migrations/env.py" in expected
    assert expected <= names


@pytest.mark.parametrize(
    "name", ["data_dir", "database_url", "public_url", "links_per_minute", "links_max_storage_bytes"]
)
def test_the_readme_names_every_link_setting(name: str) -> None:
    assert name in {field for field in Settings.__dataclass_fields__}
    assert f"OPTIRACE_{name.upper()}" in README


def test_the_readme_says_how_to_back_the_links_up() -> None:
    assert ".backup" in README and "pg_dump" in README
