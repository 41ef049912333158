"""`eyes`: two big eyes looking somewhere at random (straight ahead with `original`)."""

from __future__ import annotations

import math
import random

from PIL import Image, ImageDraw

from app.imaging.common import supersampled

__all__ = ["SIZE", "draw"]

SIZE = (400, 220)
_CENTRES = ((105, 110), (295, 110))
_REACH = 38  # how far a pupil may move from the centre


def draw(original: bool = False, rng: random.Random | None = None) -> Image.Image:
    rng = rng or random.Random()
    canvas, k = supersampled(SIZE)
    d = ImageDraw.Draw(canvas)
    d.rounded_rectangle((0, 0, SIZE[0] * k - 1, SIZE[1] * k - 1), 30 * k, fill=(250, 236, 222, 255))
    angle, reach = rng.uniform(0, 2 * math.pi), 0 if original else rng.uniform(0, _REACH)
    for cx, cy in _CENTRES:
        d.ellipse(
            ((cx - 80) * k, (cy - 92) * k, (cx + 80) * k, (cy + 92) * k),
            fill=(255, 255, 255, 255),
            outline=(40, 30, 30, 255),
            width=6 * k,
        )
        px, py = cx + reach * math.cos(angle), cy + reach * 1.17 * math.sin(angle)
        d.ellipse(
            ((px - 34) * k, (py - 40) * k, (px + 34) * k, (py + 40) * k), fill=(30, 25, 35, 255)
        )
        d.ellipse(
            ((px - 20) * k, (py - 28) * k, (px - 6) * k, (py - 12) * k), fill=(255, 255, 255, 255)
        )
    return canvas.resize(SIZE, Image.Resampling.LANCZOS)
