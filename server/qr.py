"""QR codes of this server's own URLs (short links, the page, the embed), drawn by segno as SVG or PNG.

Error correction M (15 % of the code may be lost: a projector's glare, a phone held askew), raised by segno
when the URL leaves room for more at the same size. A short link's URL makes a version 3 code (29 × 29
modules), readable from the back of a lecture hall; a full scene URL of 600 characters would need version 17.
"""

from __future__ import annotations

import io
from functools import lru_cache

import segno

ERROR_LEVEL = "m"
BORDER = 4  # the quiet zone the standard asks for, in modules
PNG_SCALES = range(1, 33)  # pixels per module


class TooLong(ValueError):
    """The URL does not fit in a QR code (at most 2331 bytes at level M)."""


def _code(url: str) -> segno.QRCode:
    try:
        return segno.make_qr(url, error=ERROR_LEVEL, boost_error=True)
    except segno.DataOverflowError:
        raise TooLong(
            f"the URL is {len(url.encode())} bytes, more than a QR code holds; make a short link (POST /api/links)"
        ) from None


@lru_cache(maxsize=512)  # a class opening one slide asks for one code many times; a few kB each
def qr_svg(url: str) -> bytes:
    """An SVG of ``url``'s QR code without a fixed size (it fills its box), black on white, titled by the URL."""
    out = io.BytesIO()
    _code(url).save(
        out,
        kind="svg",
        border=BORDER,
        omitsize=True,
        xmldecl=False,
        title=url,
        dark="#000",
        light="#fff",
        svgclass="qr",
        lineclass=None,
    )
    return out.getvalue()


@lru_cache(maxsize=256)
def qr_png(url: str, scale: int = 8) -> bytes:
    """A PNG of ``url``'s QR code, ``scale`` pixels per module, black on white."""
    out = io.BytesIO()
    _code(url).save(out, kind="png", border=BORDER, scale=scale, dark="#000", light="#fff")
    return out.getvalue()
