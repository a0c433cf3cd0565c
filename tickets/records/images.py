"""Photos and signatures decoded once, under a pixel cap, and re-encoded at a bounded size.

Images are decoded here, once, under a pixel cap, and stored re-encoded at a bounded size:
nothing decodes an image of unknown size later (the service report did, with 750 MB for one PNG).
"""

from __future__ import annotations

import io
import warnings
from typing import IO

from django.conf import settings
from PIL import Image, ImageOps

from fieldservice.errors import Invalid

# Pillow refuses an image of more than twice this anywhere in the process (the service
# report's renderer included): the cap below is checked before decoding, this backs it up.
Image.MAX_IMAGE_PIXELS = settings.MAX_IMAGE_PIXELS

# The EXIF tags kept when a photo is re-encoded: when it was taken (and the zone of that time).
EXIF_IFD = 0x8769
DATETIME = 0x0132
CAPTURE_TAGS = (0x9003, 0x9004, 0x9010, 0x9011, 0x9012)  # DateTimeOriginal, -Digitized, OffsetTime*


def _opened(data: IO[bytes], *, max_pixels: int) -> Image.Image:
    """The image in `data` with its size read from its header and checked before any pixel
    is decoded: a small file can hold a huge image (a PNG of one colour compresses 1000:1)."""
    try:
        with warnings.catch_warnings():
            # Pillow warns above its limit (and refuses above twice it): over ours, refused below.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(data)
    except Image.DecompressionBombError:
        raise _too_many_pixels(None, max_pixels) from None
    except (OSError, SyntaxError, ValueError):
        raise _unreadable() from None
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise _too_many_pixels((width, height), max_pixels)
    return image


def _too_many_pixels(size: tuple[int, int] | None, max_pixels: int) -> Invalid:
    megapixels = f"{max_pixels / 1_000_000:g}"
    shown = f"{size[0]} × {size[1]} pixels" if size else "too large"
    return Invalid(
        f"The image is {shown}; at most {megapixels} megapixels are accepted.",
        code="too_many_pixels",
        details={"max_pixels": max_pixels, "size": size},
    )


def _unreadable() -> Invalid:
    return Invalid("The image could not be read: it is damaged or cut short.", code="unreadable_image")


def _fitted(size: tuple[int, int], longest: int) -> tuple[int, int]:
    scale = min(1.0, longest / max(size))
    return max(1, round(size[0] * scale)), max(1, round(size[1] * scale))


def _on_white(image: Image.Image) -> Image.Image:
    """RGB, with anything transparent laid on white (as the photo or signature is printed)."""
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")


def _capture_time(source: Image.Exif) -> bytes:
    """The EXIF of a re-encoded photo: only when it was taken, from the original's. Its
    orientation is applied to the pixels, and the rest (the place, the phone) is not kept."""
    kept = Image.Exif()
    if isinstance(source.get(DATETIME), str):
        kept[DATETIME] = source[DATETIME]
    original = source.get_ifd(EXIF_IFD)
    for tag in CAPTURE_TAGS:
        if isinstance(original.get(tag), str):
            kept.get_ifd(EXIF_IFD)[tag] = original[tag]
    return kept.tobytes() if len(kept) or kept.get_ifd(EXIF_IFD) else b""


def photo_as_jpeg(data: IO[bytes]) -> bytes:
    """The photo decoded once, under settings.MAX_IMAGE_PIXELS, turned upright (its EXIF
    orientation), at most settings.PHOTO_MAX_SIDE_PX on its long side, as a JPEG that keeps
    its capture time. A phone's 12-MP photo becomes ~0.1-0.4 MB that the report decodes quickly.

    Only the decoded original is ever held at full size: it is shrunk in place first, then
    turned (a PNG or WebP has no draft mode, and each full-size copy of a 48-MP one is 150 MB)."""
    longest = settings.PHOTO_MAX_SIDE_PX
    with _opened(data, max_pixels=settings.MAX_IMAGE_PIXELS) as image:
        try:
            exif = _capture_time(image.getexif())
            # A JPEG decodes straight to a fraction of its size (1/2, 1/4, 1/8): much faster.
            image.draft("RGB", _fitted(image.size, longest))
            # A palette or 1-bit image would be shrunk by nearest pixel: it is made RGB first.
            shrunk = _on_white(image) if image.mode in ("1", "P") else image
            shrunk.thumbnail((longest, longest))
            ImageOps.exif_transpose(shrunk, in_place=True)
            out = io.BytesIO()
            _on_white(shrunk).save(
                out, format="JPEG", quality=settings.PHOTO_JPEG_QUALITY, optimize=True, exif=exif
            )
        except Image.DecompressionBombError:
            raise _too_many_pixels(image.size, settings.MAX_IMAGE_PIXELS) from None
        except (OSError, SyntaxError, ValueError):
            raise _unreadable() from None
    return out.getvalue()


def signature_as_png(png: bytes) -> bytes:
    """The signature decoded under settings.SIGNATURE_MAX_PIXELS and stored as a grey PNG on
    white, at most settings.SIGNATURE_MAX_SIDE_PX wide: what the report prints, and small."""
    with _opened(io.BytesIO(png), max_pixels=settings.SIGNATURE_MAX_PIXELS) as image:
        if image.format != "PNG":
            raise Invalid("The signature must be a PNG image.", code="signature_not_png")
        try:
            flat = _on_white(image)
            flat.thumbnail((settings.SIGNATURE_MAX_SIDE_PX, settings.SIGNATURE_MAX_SIDE_PX))
            out = io.BytesIO()
            flat.convert("L").save(out, format="PNG", optimize=True)
        except (OSError, SyntaxError, ValueError):
            raise _unreadable() from None
    return out.getvalue()
