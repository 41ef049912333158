"""A small SVG line chart of a balance series: title, time and value axes with
labels, gridlines, and the balance drawn as steps (it holds until the next entry).

Plain string building: no plotting dependency for one chart type.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from itertools import pairwise
from xml.sax.saxutils import escape

__all__ = ["line_chart"]

W, H = 800, 400
LEFT, RIGHT, TOP, BOTTOM = 90, 40, 60, 60


def _nice_step(span: float, ticks: int) -> float:
    raw = span / max(1, ticks)
    mag = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    for mult in (1, 2, 2.5, 5, 10):
        if raw <= mult * mag:
            return mult * mag
    return 10 * mag


def _value_label(v: float) -> str:
    for unit, size in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(v) >= size:
            return f"{v / size:.4g}{unit}"
    return f"{v:.6g}"


def _time_label(ts: float, span: float) -> str:
    when = datetime.fromtimestamp(ts, UTC)
    if span <= 3600:
        return when.strftime("%H:%M:%S")
    if span <= 2 * 86400:
        return when.strftime("%m-%d %H:%M")
    if span <= 400 * 86400:
        return when.strftime("%Y-%m-%d")
    return when.strftime("%Y-%m")


def _title_size(title: str) -> float:
    """Bold sans-serif is about 0.6 em a character: shrink a long title to fit."""
    return round(min(16.0, (W - 40) / (0.62 * max(1, len(title)))), 1)


def line_chart(title: str, points: list[tuple[float, int]]) -> str:
    plot_w, plot_h = W - LEFT - RIGHT, H - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}"'
        f' viewBox="0 0 {W} {H}" font-family="sans-serif" font-size="12">',
        f'<rect width="{W}" height="{H}" fill="white"/>',
        f'<text x="{W / 2}" y="28" text-anchor="middle" font-size="{_title_size(title)}"'
        f' font-weight="bold">{escape(title)}</text>',
    ]
    if not points:
        parts.append(
            f'<text x="{W / 2}" y="{H / 2}" text-anchor="middle" fill="#666">'
            "no ledger entries in this range</text></svg>"
        )
        return "".join(parts)
    t0, t1 = points[0][0], points[-1][0]
    if t1 <= t0:
        t0, t1 = t0 - 1800, t1 + 1800
    first = datetime.fromtimestamp(points[0][0], UTC).strftime("%Y-%m-%d %H:%M")
    last = datetime.fromtimestamp(points[-1][0], UTC).strftime("%Y-%m-%d %H:%M")
    parts.append(
        f'<text x="{W / 2}" y="44" text-anchor="middle" fill="#444">'
        f"{len(points)} point{'s' if len(points) != 1 else ''}, {first} to {last} UTC</text>"
    )
    values = [v for _, v in points]
    v0: float = min(0, *values)
    v1: float = max(0, *values)
    if v1 == v0:
        v1 = v0 + 1
    step = _nice_step(v1 - v0, 5)
    v0, v1 = math.floor(v0 / step) * step, math.ceil(v1 / step) * step

    def x(ts: float) -> float:
        return LEFT + (ts - t0) / (t1 - t0) * plot_w

    def y(v: float) -> float:
        return TOP + plot_h - (v - v0) / (v1 - v0) * plot_h

    tick = v0
    while tick <= v1 + step / 2:
        yy = y(tick)
        parts.append(
            f'<line x1="{LEFT}" y1="{yy:.1f}" x2="{W - RIGHT}" y2="{yy:.1f}" stroke="#e5e5e5"/>'
            f'<text x="{LEFT - 8}" y="{yy + 4:.1f}" text-anchor="end">{_value_label(tick)}</text>'
        )
        tick += step
    for i in range(6):
        ts = t0 + (t1 - t0) * i / 5
        xx = x(ts)
        parts.append(
            f'<line x1="{xx:.1f}" y1="{TOP + plot_h}" x2="{xx:.1f}" y2="{TOP + plot_h + 5}"'
            f' stroke="#333"/><text x="{xx:.1f}" y="{TOP + plot_h + 20}"'
            f' text-anchor="middle">{_time_label(ts, t1 - t0)}</text>'
        )
    parts.append(
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_h}" stroke="#333"/>'
        f'<line x1="{LEFT}" y1="{TOP + plot_h}" x2="{W - RIGHT}" y2="{TOP + plot_h}"'
        ' stroke="#333"/>'
        f'<text x="{LEFT + plot_w / 2}" y="{H - 15}" text-anchor="middle" fill="#444">'
        "time (UTC)</text>"
        f'<text transform="translate(18 {TOP + plot_h / 2}) rotate(-90)" text-anchor="middle"'
        ' fill="#444">voicepoints</text>'
    )
    path = [f"M{x(points[0][0]):.1f},{y(points[0][1]):.1f}"]
    for (_, prev), (ts, v) in pairwise(points):
        path.append(f"L{x(ts):.1f},{y(prev):.1f}L{x(ts):.1f},{y(v):.1f}")
    parts.append(f'<path d="{"".join(path)}" fill="none" stroke="#2563eb" stroke-width="2"/>')
    if len(points) <= 60:
        parts.extend(
            f'<circle cx="{x(ts):.1f}" cy="{y(v):.1f}" r="2.5" fill="#2563eb"/>' for ts, v in points
        )
    parts.append("</svg>")
    return "".join(parts)
