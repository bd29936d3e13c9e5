"""Where the templates and static files are: beside the package when installed, at the repository root in a checkout."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _find(name: str) -> Path:
    for candidate in (_PACKAGE / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise RuntimeError(f"optirace's {name}/ folder is missing beside {_PACKAGE}; reinstall the package")


TEMPLATES = _find("templates")
STATIC = _find("static")
