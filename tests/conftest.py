"""Shared fixtures: an httpx client on the ASGI app."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from server.app import app


@pytest.fixture(scope="session")
def client() -> TestClient:
    return TestClient(app)
