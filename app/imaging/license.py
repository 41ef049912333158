"""`license`: an ID card with a title, the avatar, up to three badges and three
text boxes (widgets), 812x540 as the original."""

from __future__ import annotations

from PIL import Image, ImageDraw

from app.imaging.common import fit_text, font, rounded, supersampled

__all__ = ["SIZE", "draw"]

SIZE = (812, 540)
_CARD, _BAND, _INK = (236, 242, 250, 255), (70, 110, 190, 255), (35, 40, 55, 255)
_BOX = (255, 255, 255, 255)


def draw(
    title: str, avatar: Image.Image, badges: list[Image.Image], widgets: list[str]
) -> Image.Image:
    canvas, k = supersampled(SIZE, 2)
    d = ImageDraw.Draw(canvas)
    w, h = SIZE[0] * k, SIZE[1] * k
    d.rounded_rectangle((0, 0, w - 1, h - 1), 36 * k, fill=_CARD, outline=_BAND, width=6 * k)
    d.rounded_rectangle((0, 0, w - 1, 110 * k), 36 * k, fill=_BAND)
    d.rectangle((0, 70 * k, w - 1, 110 * k), fill=_BAND)
    for i in range(3):  # the boxes the widgets fill, empty or not
        top = (140 + i * 100) * k
        d.rounded_rectangle(
            (330 * k, top, 770 * k, top + 80 * k),
            14 * k,
            fill=_BOX,
            outline=(190, 200, 220, 255),
            width=2 * k,
        )
    d.rounded_rectangle((40 * k, 140 * k, 290 * k, 390 * k), 20 * k, fill=_BOX)
    card = canvas.resize(SIZE, Image.Resampling.LANCZOS)
    card.alpha_composite(rounded(avatar, 230, 18), (50, 150))
    for i, badge in enumerate(badges[:3]):
        card.alpha_composite(rounded(badge, 64, 12), (50 + i * 84, 430))
    text = ImageDraw.Draw(card)
    face, line = fit_text(text, title, 730, 48)
    text.text((406, 56), line, font=face, fill=(255, 255, 255, 255), anchor="mm")
    for i, widget in enumerate(widgets[:3]):
        face, line = fit_text(text, widget, 400, 34)
        text.text((550, 180 + i * 100), line, font=face, fill=_INK, anchor="mm")
    text.text((770, 500), "LICENSED", font=font(22), fill=(120, 130, 150, 255), anchor="rm")
    return card
