"""numba for all of core: where compiled code is cached, and the one decorator every compiled function takes.

Every compiled function in core is written ``@njit(error_model="numpy", cache=True)``: NumPy's error
model (``x / 0.0`` is ±inf or NaN, as on arrays, instead of raising) and no fastmath flag (fused
multiply-adds would change the last bit of most steps). ``NUMBA_DISABLE_JIT=1`` runs the very same
source as plain Python, with the same bits, for debugging and coverage.

Compiled code is cached on disk, in ``$OPTIRACE_CACHE_DIR``, else ``$NUMBA_CACHE_DIR``, else
``$XDG_CACHE_HOME/optirace`` (``~/.cache/optirace``), in a subfolder named by a digest of the
sources of core's compiled modules: numba checks only the timestamp of the file a function is
defined in, not of the files whose functions it calls, so a change in any of them starts a fresh
cache instead of reusing a stale loop. This module must be imported before numba compiles anything (core's modules do).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def _sources_digest() -> str:
    """A digest of core's modules that hold compiled code (those that import this one)."""
    digest = hashlib.blake2b(digest_size=8)
    for path in sorted(Path(__file__).parent.glob("*.py")):
        source = path.read_bytes()
        if b"from core.jit import" in source or path.name == "jit.py":
            digest.update(path.name.encode())
            digest.update(source)
    return digest.hexdigest()


def cache_dir() -> Path:
    """The directory numba caches core's compiled code in (created by numba when it first writes)."""
    name = f"core-{_sources_digest()}"
    base = os.environ.get("OPTIRACE_CACHE_DIR") or os.environ.get("NUMBA_CACHE_DIR")
    if base and Path(base).name == name:  # set by this module in a parent process (a server's workers)
        return Path(base)
    if not base:
        xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        base = str(Path(xdg) / "optirace")
    return Path(base) / name


CACHE_DIR = cache_dir()
os.environ["NUMBA_CACHE_DIR"] = str(CACHE_DIR)

import numba  # noqa: E402  (after NUMBA_CACHE_DIR is set)
from numba import njit  # noqa: E402

numba.config.CACHE_DIR = str(CACHE_DIR)  # also when numba was imported before core

__all__ = ["CACHE_DIR", "njit"]
