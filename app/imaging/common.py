"""Decoding what clients send, and the drawing tools every generator shares.

Nothing a client sends is trusted to be what it says: `decode` lets Pillow look at
the bytes themselves (only the four formats the store keeps are even tried),
checks the size before decoding a pixel, then decodes the first frame. A file that
is not an image, is truncated, or is too large is refused with `NotAnImage`.
Everything here is synchronous and CPU-bound: callers run it in a thread.
"""

from __future__ import annotations

import io
import unicodedata
from typing import NamedTuple

from PIL import Image, ImageDraw, ImageFont, ImageOps

__all__ = [
    "FORMATS",
    "MAX_SIDE",
    "Decoded",
    "NotAnImage",
    "Rgb",
    "circle",
    "decode",
    "default_avatar",
    "fit_text",
    "font",
    "png",
    "rounded",
    "supersampled",
]

Rgb = tuple[int, int, int]
FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpeg", "image/jpeg"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}
MAX_SIDE = 16384


class NotAnImage(ValueError):
    """The bytes are not an image the server accepts; the message says why."""


class Decoded(NamedTuple):
    image: Image.Image
    """The first frame, decoded."""
    file_type: str
    mime_type: str
    width: int
    height: int


def decode(data: bytes, max_pixels: int) -> Decoded:
    try:
        image = Image.open(io.BytesIO(data), formats=list(FORMATS))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # Pillow's own guard, from the header alone, for sizes far past ours (a tiny
        # file claiming 16000x16000): a refusal like any too large image, not a 500.
        # (The warning is only raised where warnings are errors, as in the tests.)
        raise NotAnImage(
            f"the image is too large: at most {max_pixels} pixels, {MAX_SIDE} on a side"
        ) from None
    except (Image.UnidentifiedImageError, OSError, ValueError):
        raise NotAnImage("the file is not a PNG, JPEG, GIF or WebP image") from None
    width, height = image.size
    if width < 1 or height < 1 or max(width, height) > MAX_SIDE or width * height > max_pixels:
        raise NotAnImage(
            f"the image is {width}x{height}: at most {max_pixels} pixels, {MAX_SIDE} on a side"
        )
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        raise NotAnImage("the image is damaged or truncated") from None
    file_type, mime = FORMATS[str(image.format)]
    return Decoded(image, file_type, mime, width, height)


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return out.getvalue()


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """Pillow's own scalable font (no font file ships with the server)."""
    return ImageFont.load_default(size=size)


def fit_text(draw: ImageDraw.ImageDraw, text: str, width: int, size: int) -> tuple:
    """(font, text) with the text at `size` or smaller, cut with … to fit `width`.

    Control and format characters (a newline, a tab, NUL) become spaces: the text is
    one line, and Pillow refuses to measure a multiline one."""
    text = "".join(" " if unicodedata.category(c)[0] == "C" else c for c in text)
    while size > 10 and draw.textlength(text, font=font(size)) > width:
        size -= 2
    face = font(size)
    if draw.textlength(text, font=face) > width:
        while text and draw.textlength(text + "…", font=face) > width:
            text = text[:-1]
        text += "…"
    return face, text


def supersampled(size: tuple[int, int], scale: int = 3) -> tuple[Image.Image, int]:
    """A transparent canvas `scale` times larger: shapes drawn on it and scaled down
    get smooth edges (ImageDraw draws without anti-aliasing)."""
    return Image.new("RGBA", (size[0] * scale, size[1] * scale), (0, 0, 0, 0)), scale


def circle(image: Image.Image, side: int) -> Image.Image:
    """`image` cropped to its centre square, scaled to `side`, masked to a disc."""
    square = ImageOps.fit(image.convert("RGBA"), (side, side), Image.Resampling.LANCZOS)
    mask = Image.new("L", (side * 4, side * 4), 0)
    ImageDraw.Draw(mask).ellipse((0, 0, side * 4 - 1, side * 4 - 1), fill=255)
    mask = mask.resize((side, side), Image.Resampling.LANCZOS)
    alpha = Image.new("L", (side, side), 0)
    alpha.paste(square.getchannel("A"), mask=mask)
    square.putalpha(alpha)
    return square


def rounded(image: Image.Image, side: int, radius: int) -> Image.Image:
    """`image` as a `side` square with rounded corners."""
    square = ImageOps.fit(image.convert("RGBA"), (side, side), Image.Resampling.LANCZOS)
    mask = Image.new("L", (side, side), 0)
    ImageDraw.Draw(mask).rounded_rectangle((0, 0, side - 1, side - 1), radius, fill=255)
    alpha = Image.new("L", (side, side), 0)
    alpha.paste(square.getchannel("A"), mask=mask)
    square.putalpha(alpha)
    return square


def default_avatar(side: int = 256) -> Image.Image:
    """The avatar used when none is given: a green disc with a simple white face
    (drawn here; the original fetched Discord's default avatar)."""
    canvas, k = supersampled((side, side))
    draw = ImageDraw.Draw(canvas)
    s = side * k
    draw.ellipse((0, 0, s - 1, s - 1), fill=(67, 181, 129, 255))
    draw.rounded_rectangle(
        (s * 0.24, s * 0.3, s * 0.76, s * 0.72), radius=s * 0.16, fill=(255, 255, 255, 255)
    )
    for x in (0.38, 0.62):
        draw.ellipse((s * (x - 0.05), s * 0.44, s * (x + 0.05), s * 0.56), fill=(67, 181, 129, 255))
    return canvas.resize((side, side), Image.Resampling.LANCZOS)
