"""`waifu-insult`: the avatar pinned up and judged harshly, 450x344 as the original."""

from __future__ import annotations

from PIL import Image, ImageDraw

from app.imaging.common import fit_text, rounded, supersampled

__all__ = ["SIZE", "draw"]

SIZE = (450, 344)
_LINE = "Your waifu is trash."


def draw(avatar: Image.Image) -> Image.Image:
    canvas, k = supersampled(SIZE, 2)
    d = ImageDraw.Draw(canvas)
    w, h = SIZE[0] * k, SIZE[1] * k
    d.rectangle((0, 0, w - 1, h - 1), fill=(58, 44, 60, 255))
    d.rounded_rectangle((115 * k, 20 * k, 335 * k, 240 * k), 12 * k, fill=(245, 240, 230, 255))
    image = canvas.resize(SIZE, Image.Resampling.LANCZOS)
    image.alpha_composite(rounded(avatar, 200, 8), (125, 30))
    cross = Image.new("RGBA", (SIZE[0] * k, SIZE[1] * k), (0, 0, 0, 0))
    x = ImageDraw.Draw(cross)
    red = (220, 40, 50, 230)
    x.line((135 * k, 40 * k, 315 * k, 220 * k), fill=red, width=14 * k)
    x.line((315 * k, 40 * k, 135 * k, 220 * k), fill=red, width=14 * k)
    image.alpha_composite(cross.resize(SIZE, Image.Resampling.LANCZOS))
    text = ImageDraw.Draw(image)
    face, line = fit_text(text, _LINE, 420, 36)
    text.text((225, 292), line, font=face, fill=(255, 255, 255, 255), anchor="mm")
    return image
