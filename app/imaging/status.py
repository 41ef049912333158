"""`discord-status`: an avatar in a disc with Discord's status badge, 128x128 (the
original's size and badge geometry)."""

from __future__ import annotations

from PIL import Image, ImageDraw

from app.imaging.common import circle

__all__ = ["COLOURS", "SIZE", "draw"]

SIZE = 128
COLOURS = {
    "online": (67, 181, 129),
    "idle": (250, 166, 26),
    "dnd": (240, 71, 71),
    "streaming": (89, 54, 149),
    "offline": (116, 127, 141),
}
_CENTRE, _BADGE, _GAP = 110.5, 11.5, 15.5  # badge centre, badge radius, cut-out radius
_K = 4  # drawn 4x larger, then scaled down: smooth edges


def draw(status: str, avatar: Image.Image) -> Image.Image:
    big = SIZE * _K
    disc = circle(avatar, big)
    cut = Image.new("L", (big, big), 255)  # the transparent ring around the badge
    ImageDraw.Draw(cut).ellipse(_around(_GAP), fill=0)
    disc.putalpha(Image.composite(disc.getchannel("A"), cut, cut))
    badge = ImageDraw.Draw(disc)
    colour = (*COLOURS[status], 255)
    badge.ellipse(_around(_BADGE), fill=colour)
    clear = (0, 0, 0, 0)
    if status == "idle":  # a crescent moon
        badge.ellipse(_around(_BADGE * 0.62, dx=-5.5, dy=-5.5), fill=clear)
    elif status == "dnd":  # a bar
        w, h = _BADGE * 0.62 * _K, _BADGE * 0.2 * _K
        c = _CENTRE * _K
        badge.rounded_rectangle((c - w, c - h, c + w, c + h), h, fill=clear)
    elif status == "offline":  # a hole
        badge.ellipse(_around(_BADGE * 0.45), fill=clear)
    elif status == "streaming":  # a play triangle
        c, r = _CENTRE * _K, _BADGE * _K * 0.5
        badge.polygon([(c - r * 0.6, c - r), (c - r * 0.6, c + r), (c + r, c)], fill=clear)
    return disc.resize((SIZE, SIZE), Image.Resampling.LANCZOS)


def _around(radius: float, dx: float = 0.0, dy: float = 0.0) -> tuple[float, ...]:
    cx, cy = (_CENTRE + dx) * _K, (_CENTRE + dy) * _K
    r = radius * _K
    return (cx - r, cy - r, cx + r, cy + r)
