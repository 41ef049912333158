"""`love-ship`: two avatars and a heart between them, 610x200 as the original."""

from __future__ import annotations

import math

from PIL import Image, ImageDraw

from app.imaging.common import rounded, supersampled

__all__ = ["SIZE", "draw"]

SIZE = (610, 200)


def _heart(cx: float, cy: float, size: float, steps: int = 120) -> list[tuple[float, float]]:
    points = []
    for i in range(steps):
        t = 2 * math.pi * i / steps
        x = 16 * math.sin(t) ** 3
        y = 13 * math.cos(t) - 5 * math.cos(2 * t) - 2 * math.cos(3 * t) - math.cos(4 * t)
        points.append((cx + x * size / 32, cy - y * size / 32))
    return points


def draw(left: Image.Image, right: Image.Image) -> Image.Image:
    canvas, k = supersampled(SIZE)
    d = ImageDraw.Draw(canvas)
    d.rounded_rectangle((0, 0, SIZE[0] * k - 1, SIZE[1] * k - 1), 24 * k, fill=(255, 232, 240, 255))
    d.polygon(_heart(305 * k, 104 * k, 150 * k), fill=(150, 20, 50, 255))
    d.polygon(_heart(305 * k, 102 * k, 134 * k), fill=(232, 54, 94, 255))
    d.ellipse((268 * k, 70 * k, 286 * k, 88 * k), fill=(255, 255, 255, 200))
    image = canvas.resize(SIZE, Image.Resampling.LANCZOS)
    image.alpha_composite(rounded(left, 180, 20), (10, 10))
    image.alpha_composite(rounded(right, 180, 20), (420, 10))
    return image
