"""Small previews of images (JPEG, PNG, WebP, GIF's first frame), made with Pillow.

Hostile images are the rule here, not the exception, so each bound is checked before the work
it bounds: the source's size before it is read, the pixel count from the header before any
pixel is decoded, and the formats Pillow may try are only these four. A JPEG is decoded at a
reduced scale (`draft`), so memory follows the thumbnail rather than the photo. The EXIF
orientation is applied; the thumbnail is written fresh, so it carries no metadata (no EXIF,
no GPS, no comments). Whatever cannot be read simply has no thumbnail.
"""

import io
import logging
from typing import IO

from PIL import Image, UnidentifiedImageError

logger = logging.getLogger("hypersend.files")

THUMBNAIL_EDGE = 320
"""The longer side of a thumbnail, in pixels."""

THUMBNAIL_MIME = "image/jpeg"

MAX_SOURCE_BYTES = 50 * 1024 * 1024
"""Larger images get no thumbnail (they are not read)."""

MAX_SOURCE_PIXELS = 50_000_000
"""Width x height of the largest image decoded (a 50-megapixel photo; a decompression bomb
declares far more)."""

IMAGE_TYPES = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}

_ORIENTATION = 0x0112
_TURNS = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def has_preview(mime: str, size: int) -> bool:
    """Whether a file of this type and size is an image worth trying."""
    return mime in IMAGE_TYPES and 0 < size <= MAX_SOURCE_BYTES


def make_thumbnail(source: IO[bytes]) -> bytes | None:
    """A JPEG no larger than `THUMBNAIL_EDGE` on either side, or None when `source` is not an
    image this module reads safely. Blocking: run it on a worker thread."""
    try:
        with Image.open(source, formats=list(IMAGE_TYPES.values())) as image:
            width, height = image.size
            if width * height > MAX_SOURCE_PIXELS or not width or not height:
                logger.info("No thumbnail: %dx%d pixels is too many", width, height)
                return None
            turn = _TURNS.get(image.getexif().get(_ORIENTATION, 1))
            image.draft("RGB", (THUMBNAIL_EDGE, THUMBNAIL_EDGE))  # JPEG: decode scaled down
            image.thumbnail((THUMBNAIL_EDGE, THUMBNAIL_EDGE))  # GIF: its first frame
            small = _on_white(image)
            if turn is not None:
                small = small.transpose(turn)
            out = io.BytesIO()
            small.save(out, "JPEG", quality=80, optimize=True)
            return out.getvalue()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        logger.info("No thumbnail: %s", exc)
        return None


def _on_white(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white (JPEG has none)."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGB", rgba.size, "white")
        white.paste(rgba, mask=rgba.getchannel("A"))
        return white
    return image.convert("RGB")
