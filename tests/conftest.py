"""Shared fixtures: an httpx client on the ASGI app."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest
from fastapi.testclient import TestClient

# Short links go to a data directory of the run's own, never the user's (and never a database named by
# OPTIRACE_DATABASE_URL: the PostgreSQL tests take OPTIRACE_TEST_POSTGRES_URL). Set before the settings are
# read; the browser tests' `optirace serve` inherits it.
DATA_DIR = tempfile.mkdtemp(prefix="optirace-tests-")
os.environ["OPTIRACE_DATA_DIR"] = DATA_DIR
os.environ.pop("OPTIRACE_DATABASE_URL", None)
os.environ.pop("OPTIRACE_PUBLIC_URL", None)

from server.app import app  # noqa: E402


@pytest.fixture(scope="session")
def client() -> TestClient:
    return TestClient(app)


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(DATA_DIR, ignore_errors=True)
