"""`awooo`: a howling wolf pup, its fur in `hair` and its face in `face` colours."""

from __future__ import annotations

from PIL import Image, ImageDraw

from app.imaging.common import Rgb, font, supersampled

__all__ = ["DEFAULT_FACE", "DEFAULT_HAIR", "SIZE", "draw"]

SIZE = (400, 400)
DEFAULT_FACE: Rgb = (0xFF, 0xF0, 0xD3)
DEFAULT_HAIR: Rgb = (0xCC, 0x81, 0x7C)
_INK = (60, 40, 40, 255)


def _shade(rgb: Rgb, factor: float) -> tuple[int, int, int, int]:
    r, g, b = (max(0, min(255, round(c * factor))) for c in rgb)
    return (r, g, b, 255)


def draw(face: Rgb = DEFAULT_FACE, hair: Rgb = DEFAULT_HAIR) -> Image.Image:
    canvas, k = supersampled(SIZE)
    d = ImageDraw.Draw(canvas)

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, ...]:
        return (x0 * k, y0 * k, x1 * k, y1 * k)

    def pts(*xy: float) -> list[tuple[float, float]]:
        return [(xy[i] * k, xy[i + 1] * k) for i in range(0, len(xy), 2)]

    fur, dark = _shade(hair, 1.0), _shade(hair, 0.72)
    d.ellipse(box(40, 20, 360, 380), fill=(255, 255, 255, 255))  # backdrop
    d.polygon(pts(95, 210, 110, 70, 185, 150), fill=fur, outline=_INK, width=3 * k)  # ears
    d.polygon(pts(305, 210, 290, 70, 215, 150), fill=fur, outline=_INK, width=3 * k)
    d.polygon(pts(120, 180, 117, 105, 165, 155), fill=dark)
    d.polygon(pts(280, 180, 283, 105, 235, 155), fill=dark)
    d.ellipse(box(85, 120, 315, 340), fill=fur, outline=_INK, width=3 * k)  # head
    d.ellipse(box(130, 200, 270, 335), fill=_shade(face, 1.0))  # muzzle and cheeks
    d.ellipse(box(105, 175, 185, 255), fill=_shade(face, 1.0))
    d.ellipse(box(215, 175, 295, 255), fill=_shade(face, 1.0))
    for x in (145, 255):  # eyes shut, happy
        d.arc(box(x - 25, 195, x + 25, 235), 200, 340, fill=_INK, width=5 * k)
    d.ellipse(box(185, 240, 215, 262), fill=_INK)  # nose
    d.ellipse(box(178, 272, 222, 322), fill=(120, 30, 40, 255), outline=_INK, width=3 * k)
    d.ellipse(box(188, 298, 212, 318), fill=(235, 110, 120, 255))  # tongue
    image = canvas.resize(SIZE, Image.Resampling.LANCZOS)
    text = ImageDraw.Draw(image)
    text.text((SIZE[0] - 20, 30), "awooo!", font=font(44), fill=_INK, anchor="ra")
    return image
