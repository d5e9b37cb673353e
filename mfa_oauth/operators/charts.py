"""Small SVG charts drawn on the server: no scripts, no CDN, nothing a strict CSP blocks.

Colours are SVG presentation attributes (``fill``), not ``style`` attributes, so
``style-src 'self'`` does not apply to them.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

PALETTE = ("#3b6ea5", "#c0392b", "#e67e22", "#27ae60", "#8e44ad")
# Colours that mean something: red only for what went wrong, green for what arrived.
NEUTRAL, GOOD, WARNING, BAD = "#3b6ea5", "#27ae60", "#e67e22", "#c0392b"


def horizontal_bars(
    rows: Sequence[tuple[str, int]], *, title: str, width: int = 460, bar_height: int = 22
) -> SafeString:
    """One bar per (label, value), longest value across the full width."""
    label_width, gap, top = 150, 6, 24
    height = top + len(rows) * (bar_height + gap) + 4
    peak = max([v for _, v in rows] + [1])
    room = width - label_width - 50
    parts = []
    for i, (label, value) in enumerate(rows):
        y = top + i * (bar_height + gap)
        length = round(room * value / peak) if value else 0
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end" font-size="12">{}</text>'
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{}: {}</title></rect>'
                '<text x="{}" y="{}" font-size="12">{}</text>',
                label_width - 6,
                y + bar_height - 7,
                label,
                label_width,
                y,
                max(length, 1),
                bar_height,
                PALETTE[0],
                label,
                value,
                label_width + length + 4,
                y + bar_height - 7,
                value,
            )
        )
    return _svg(width, height, title, mark_safe("".join(parts)))


def daily_columns(
    days: Sequence[str],
    series: Sequence[tuple[str, Sequence[int]]],
    *,
    title: str,
    width: int = 620,
    height: int = 200,
    colours: Sequence[str] = (),
) -> SafeString:
    """Grouped columns: one group per day, one column per series, with a legend.

    ``colours``: one per series (else the palette after its first colour). Every other day is
    labelled, counted from the last one, so today always has its label."""

    def colour(index: int) -> str:
        return colours[index] if index < len(colours) else PALETTE[(index + 1) % len(PALETTE)]

    left, bottom, top = 34, 34, 30
    plot_h = height - top - bottom
    peak = max([v for _, values in series for v in values] + [1])
    group_w = (width - left - 8) / max(len(days), 1)
    col_w = max(2.0, (group_w - 4) / max(len(series), 1))
    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#999"/>', left, top + plot_h, width - 4, top + plot_h
        ),
        format_html('<text x="{}" y="{}" text-anchor="end" font-size="11">{}</text>', left - 4, top + 8, peak),
        format_html('<text x="{}" y="{}" text-anchor="end" font-size="11">0</text>', left - 4, top + plot_h),
    ]
    for d, day in enumerate(days):
        x0 = left + d * group_w + 2
        for s, (name, values) in enumerate(series):
            value = values[d]
            h = round(plot_h * value / peak) if value else 0
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} {}: {}</title></rect>',
                    round(x0 + s * col_w, 1),
                    top + plot_h - h,
                    round(col_w - 1, 1),
                    h,
                    colour(s),
                    day,
                    name,
                    value,
                )
            )
        if (len(days) - 1 - d) % 2 == 0 or len(days) <= 7:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" text-anchor="middle" font-size="10">{}</text>',
                    round(x0 + group_w / 2, 1),
                    top + plot_h + 14,
                    day[5:],
                )
            )
    legend = format_html_join(
        "",
        '<rect x="{}" y="6" width="10" height="10" fill="{}"/><text x="{}" y="15" font-size="11">{}</text>',
        ((left + i * 110, colour(i), left + i * 110 + 14, name) for i, (name, _) in enumerate(series)),
    )
    return _svg(width, height, title, mark_safe("".join(parts) + legend))


def _svg(width: int, height: int, title: str, body: SafeString) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="mfa-chart" role="img" aria-label="{}" width="{}" height="{}" '
        'viewBox="0 0 {} {}"><title>{}</title>{}</svg>',
        title,
        width,
        height,
        width,
        height,
        title,
        body,
    )
