"""`won`: a puppy barking "wan!", its eyes and mouth a little askew each time (in
place with `original`)."""

from __future__ import annotations

import random

from PIL import Image, ImageDraw

from app.imaging.common import font, supersampled

__all__ = ["SIZE", "draw"]

SIZE = (512, 512)
_FUR, _EAR, _INK = (245, 222, 179, 255), (160, 110, 70, 255), (40, 30, 30, 255)


def draw(original: bool = False, rng: random.Random | None = None) -> Image.Image:
    rng = rng or random.Random()

    def jitter(reach: float) -> tuple[float, float]:
        return (0.0, 0.0) if original else (rng.uniform(-reach, reach), rng.uniform(-reach, reach))

    canvas, k = supersampled(SIZE)
    d = ImageDraw.Draw(canvas)

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, ...]:
        return (x0 * k, y0 * k, x1 * k, y1 * k)

    d.ellipse(box(40, 150, 170, 360), fill=_EAR, outline=_INK, width=4 * k)  # floppy ears
    d.ellipse(box(342, 150, 472, 360), fill=_EAR, outline=_INK, width=4 * k)
    d.ellipse(box(96, 110, 416, 440), fill=_FUR, outline=_INK, width=4 * k)  # head
    for x, y in ((195, 250), (317, 250)):
        dx, dy = jitter(14)
        d.ellipse(box(x + dx - 20, y + dy - 24, x + dx + 20, y + dy + 24), fill=_INK)
        d.ellipse(box(x + dx - 9, y + dy - 16, x + dx + 1, y + dy - 4), fill=(255, 255, 255, 255))
    d.ellipse(box(236, 300, 276, 326), fill=_INK)  # nose
    dx, dy = jitter(20)
    d.arc(box(210 + dx, 310 + dy, 256 + dx, 350 + dy), 0, 180, fill=_INK, width=5 * k)  # ω
    d.arc(box(256 + dx, 310 + dy, 302 + dx, 350 + dy), 0, 180, fill=_INK, width=5 * k)
    d.chord(box(236 + dx, 340 + dy, 276 + dx, 390 + dy), 0, 180, fill=(235, 110, 120, 255))
    image = canvas.resize(SIZE, Image.Resampling.LANCZOS)
    ImageDraw.Draw(image).text((256, 24), "wan!", font=font(64), fill=_INK, anchor="ma")
    return image
