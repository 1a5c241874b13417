"""QR codes for product labels: the product's GS1 Digital Link URI (GS1 Digital Link 1.2 §7;
ISO/IEC 18004 symbols with error correction level M and a quiet zone of 4 modules)."""

from __future__ import annotations

import io

import segno

ERROR_CORRECTION = "m"  # 15 % recovery: the GS1 recommendation for Digital Link on packaging
QUIET_ZONE = 4  # modules of blank margin required around a QR symbol (ISO/IEC 18004 §6.3.8)
DEFAULT_SCALE = 10  # pixels (PNG) or SVG user units per module
MIN_SCALE, MAX_SCALE = 1, 40  # larger is never needed for print and costs memory
PRINT_DPI = 300  # written into the PNG, so label software prints it at the intended size


def _symbol(uri: str) -> segno.QRCode:
    # Exactly level M (no silent boosting) and never a Micro QR, which phones read badly.
    return segno.make_qr(uri, error=ERROR_CORRECTION, boost_error=False)


def _checked_scale(scale: int) -> int:
    if not MIN_SCALE <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be between {MIN_SCALE} and {MAX_SCALE}, got {scale}")
    return scale


def qr_svg(uri: str, *, scale: int = DEFAULT_SCALE) -> bytes:
    """The QR code of `uri` as a standalone SVG document."""
    buffer = io.BytesIO()
    _symbol(uri).save(buffer, kind="svg", scale=_checked_scale(scale), border=QUIET_ZONE,
                      xmldecl=True, title=uri)
    return buffer.getvalue()


def qr_png(uri: str, *, scale: int = DEFAULT_SCALE, dpi: int = PRINT_DPI) -> bytes:
    """The QR code of `uri` as a PNG, `scale` pixels per module, tagged with `dpi`."""
    buffer = io.BytesIO()
    _symbol(uri).save(buffer, kind="png", scale=_checked_scale(scale), border=QUIET_ZONE,
                      dpi=dpi)
    return buffer.getvalue()


def product_qr_svg(product, *, scale: int = DEFAULT_SCALE) -> bytes:
    return qr_svg(product.digital_link, scale=scale)


def product_qr_png(product, *, scale: int = DEFAULT_SCALE) -> bytes:
    return qr_png(product.digital_link, scale=scale)
