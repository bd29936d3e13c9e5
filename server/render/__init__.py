"""Exports: a race drawn as a GIF, a PNG or an SVG (and, in time, other formats), from the same scene as the page.

- ``figure``: what a picture of a race shows and where (layout, colours, ticks, frames), drawing-free;
- ``raster``: Pillow, for GIF and PNG; ``svg``: SVG text through ``templates/race.svg``;
- ``formats``: the registry ``FORMATS`` (name → media type, options, renderer) that the route
  ``GET /export/race.<format>`` and the command ``optirace export`` both read.
"""

from __future__ import annotations

import PIL

from server.render.formats import FORMATS, ExportError, Format, OptionSpec, scene_from_pairs, split_query
from server.render.raster import font_identity

# Bump when a change to the drawing changes the bytes of an export: ETags (and caches) then change too.
RENDER_VERSION = "1"


def fingerprint() -> str:
    """What, besides the request, decides an export's bytes: this code, Pillow and the fonts found."""
    return f"{RENDER_VERSION}|{PIL.__version__}|{font_identity()}"


__all__ = ["FORMATS", "ExportError", "Format", "OptionSpec", "fingerprint", "scene_from_pairs", "split_query"]
