"""Charts drawn on the server as SVG (no script, no CDN): horizontal bars for categories, units, urgency,
times and breaches; columns for months or years. Each chart is `role="img"` with a title and a description;
the page shows the same figures in a table next to it. Only presentation attributes are used (the pages'
Content-Security-Policy forbids inline `style`). A suppressed count ("<5", from reporting) is drawn as a
short dashed bar labelled as reporting gives it, never as a number it is not."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

WIDTH = 360
BAR_ROW = 40  # label line, then the bar
COLUMN_AREA = 150
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Noto Sans', Arial, sans-serif"
COLOURS = ("#0b5394", "#b3261e", "#8a5a00", "#1e6b34", "#5b3a8e", "#00687a")
INK, MUTED, GRID = "#1b1f24", "#4a5560", "#c9d2da"


@dataclass(frozen=True)
class Bar:
    label: str
    value: int | float | str  # a string is a suppressed count such as "<5"
    note: str = ""  # shown after the value (e.g. "giờ")


def _number(value: int | float | str) -> float:
    return float(value) if isinstance(value, int | float) else 0.0


def _shown(value: int | float | str) -> str:
    """As the tables write numbers, the Vietnamese way: 1.234 and 0,6."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and value % 1:
        whole, _, fraction = f"{value:,.1f}".partition(".")
        return whole.replace(",", ".") + "," + fraction
    return f"{int(value):,}".replace(",", ".")


def _fit(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _svg(chart_id: str, title: str, summary: str, height: int, body: list[str]) -> Markup:
    head = (
        f'<svg class="chart" id="{escape(chart_id)}" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" '
        f'height="{height}" role="img" aria-labelledby="{escape(chart_id)}-t {escape(chart_id)}-d" '
        f'xmlns="http://www.w3.org/2000/svg" font-family="{FONT}">'
        f'<title id="{escape(chart_id)}-t">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-d">{escape(summary)}</desc>'
    )
    return Markup(head + "".join(body) + "</svg>")  # noqa: S704 (every text in it went through escape)


def _summary(bars: Sequence[Bar]) -> str:
    return "; ".join(f"{b.label}: {_shown(b.value)}{(' ' + b.note) if b.note else ''}" for b in bars)


def bars(chart_id: str, title: str, items: Sequence[Bar], *, colour: int = 0) -> Markup:
    """Horizontal bars, one per item, the label above its bar and the value at its end."""
    if not items:
        return Markup("")
    top = max((_number(b.value) for b in items), default=0.0) or 1.0
    room = WIDTH - 95  # space for the value after the longest bar ("1.234 giờ")
    body: list[str] = []
    for i, item in enumerate(items):
        y = 6 + i * BAR_ROW
        body.append(
            f'<text x="0" y="{y + 13}" font-size="15" fill="{INK}">{escape(_fit(item.label, 44))}'
            f"<title>{escape(item.label)}</title></text>"
        )
        value = _number(item.value)
        length = max(2.0, room * value / top) if value else 2.0
        if isinstance(item.value, str):
            body.append(
                f'<rect x="0" y="{y + 19}" width="18" height="14" fill="none" stroke="{MUTED}" stroke-dasharray="3 2"/>'
            )
            length = 18
        else:
            body.append(
                f'<rect x="0" y="{y + 19}" width="{length:.1f}" height="14" rx="2" '
                f'fill="{COLOURS[colour % len(COLOURS)]}"/>'
            )
        shown = _shown(item.value) + (f" {item.note}" if item.note else "")
        body.append(
            f'<text x="{length + 6:.1f}" y="{y + 31}" font-size="15" font-weight="700" fill="{INK}">'
            f"{escape(shown)}</text>"
        )
    return _svg(chart_id, title, _summary(items), 6 + len(items) * BAR_ROW + 4, body)


def columns(chart_id: str, title: str, items: Sequence[Bar], *, colour: int = 0) -> Markup:
    """Vertical columns in order (months or years), the value above each and the label under it."""
    if not items:
        return Markup("")
    top = max((_number(b.value) for b in items), default=0.0) or 1.0
    left, bottom = 4, 24 + COLUMN_AREA
    step = (WIDTH - left) / len(items)
    width = max(4.0, step * 0.68)
    body = [f'<line x1="{left}" y1="{bottom}" x2="{WIDTH}" y2="{bottom}" stroke="{GRID}" stroke-width="1"/>']
    small = len(items) > 12
    for i, item in enumerate(items):
        x = left + i * step + (step - width) / 2
        centre = x + width / 2
        value = _number(item.value)
        height = COLUMN_AREA * value / top
        if isinstance(item.value, str):
            body.append(
                f'<rect x="{x:.1f}" y="{bottom - 12}" width="{width:.1f}" height="12" fill="none" '
                f'stroke="{MUTED}" stroke-dasharray="3 2"/>'
            )
            height = 12
        elif value:
            body.append(
                f'<rect x="{x:.1f}" y="{bottom - height:.1f}" width="{width:.1f}" height="{height:.1f}" rx="2" '
                f'fill="{COLOURS[colour % len(COLOURS)]}"/>'
            )
        if (value or isinstance(item.value, str)) and (not small or value == top):
            body.append(
                f'<text x="{centre:.1f}" y="{bottom - height - 5:.1f}" font-size="12" font-weight="700" '
                f'text-anchor="middle" fill="{INK}">{escape(_shown(item.value))}</text>'
            )
        if not small or i % max(1, len(items) // 12) == 0:
            body.append(
                f'<text x="{centre:.1f}" y="{bottom + 16}" font-size="11" text-anchor="middle" fill="{MUTED}">'
                f"{escape(item.label)}</text>"
            )
    return _svg(chart_id, title, _summary(items), bottom + 22, body)
