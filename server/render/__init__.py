"""Exports: a race drawn as a GIF, a PNG or an SVG (and, in time, other formats), from the same scene as the page.

- ``figure``: what a picture of a race shows and where (layout, colours, ticks, frames), drawing-free;
- ``raster``: Pillow, for GIF and PNG; ``svg``: SVG text through ``templates/race.svg``;
- ``formats``: the registry ``FORMATS`` (name → media type, options, renderer) that the route
  ``GET /export/race.<format>`` and the command ``optirace export`` both read.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

import PIL

import core
from server.paths import STATIC, TEMPLATES
from server.render.formats import FORMATS, ExportError, Format, OptionSpec, scene_from_pairs, split_query
from server.render.raster import font_identity


@lru_cache(maxsize=1)
def fingerprint() -> str:
    """What, besides the request, decides an export's bytes: the code that races and draws, Pillow, the fonts.

    The code is hashed (core's and this package's modules, the templates, the page's scripts and styles),
    so a change to an optimizer or to the drawing changes every ETag without anyone remembering to bump a version.
    """
    digest = hashlib.blake2b(digest_size=8)
    sources = [
        *Path(core.__file__).parent.glob("*.py"),
        *Path(__file__).parent.glob("*.py"),
        *TEMPLATES.glob("*"),
        *STATIC.glob("*.js"),  # the html export bundles the player's modules and styles
        *STATIC.glob("*.css"),
    ]
    for path in sorted(sources):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return f"{digest.hexdigest()}|{PIL.__version__}|{font_identity()}"


__all__ = ["FORMATS", "ExportError", "Format", "OptionSpec", "fingerprint", "scene_from_pairs", "split_query"]
