"""An ER graph -> a self-contained SVG: boxes in a grid, straight connectors, crow's feet.

No layout engine: the output must be byte-identical for the same schemas on every machine
(``jadugar diagram --check``), which a Graphviz install of another version would not give.
Boxes are table-like (name and table, then key, column and type rows) and sized from the
text in a monospace font; models are placed on a grid, swapping cells while that shortens
the connectors and keeps them off other boxes; a connector is the straight line between two
boxes' centres, cut at their borders, with crow's-foot ends (bar: one, ring: zero, foot:
many) and the relation names at its middle.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from .graph import Cardinality, Column, Entity, Graph, Link

FONT = "DejaVu Sans Mono, Menlo, Consolas, monospace"
SIZE = 12  # font size of the rows
CHAR = 7.25  # width of one monospace character at SIZE
HEAD = 40  # the name and table lines
ROW = 18
PAD = 10
GAP_X = 120  # room between boxes, more when a connector label needs it
LABEL_CHAR = 6.7  # width of one character of a label (font size 11)
GAP_Y = 80
MARGIN = 24
TOP = 34  # the title line
OPTIMISE_UP_TO = 24  # models; a larger schema keeps the name order on its grid
INK = "#34495e"
HEAD_FILL = "#dce6f5"
LINE = "#5d6d7e"


@dataclass(frozen=True)
class _Box:
    entity: Entity
    x: float
    y: float
    w: float
    h: float

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


def svg(graph: Graph, source: str) -> str:
    """The SVG document of ``graph`` (``source`` names the schema folder in the title)."""
    names = [e.name for e in graph.entities]
    sizes = {e.name: _size(e) for e in graph.entities}
    cols = max(1, math.ceil(math.sqrt(len(names))))
    rows = max(1, math.ceil(len(names) / cols))
    cells = _place(names, graph.links, rows, cols)
    widths = [
        max((sizes[n][0] for n, (_, c) in cells.items() if c == col), default=0)
        for col in range(cols)
    ]
    heights = [
        max((sizes[n][1] for n, (r, _) in cells.items() if r == row), default=0)
        for row in range(rows)
    ]
    longest = max((len(link.label) for link in graph.links), default=0)
    gap = max(GAP_X, math.ceil(longest * LABEL_CHAR + 70))
    xs = [MARGIN + sum(widths[:c]) + gap * c for c in range(cols)]
    ys = [MARGIN + TOP + sum(heights[:r]) + GAP_Y * r for r in range(rows)]
    boxes: dict[str, _Box] = {}
    for entity in graph.entities:
        r, c = cells[entity.name]
        w, h = sizes[entity.name]
        boxes[entity.name] = _Box(
            entity, xs[c] + (widths[c] - w) / 2, ys[r] + (heights[r] - h) / 2, w, h
        )
    width = MARGIN * 2 + sum(widths) + gap * (cols - 1)
    height = MARGIN * 2 + TOP + sum(heights) + GAP_Y * (rows - 1) + ROW
    # the right-hand loops of links from a model to itself need room
    loops = [len(link.label) for link in graph.links if link.parent == link.child]
    width += math.ceil(max(loops) * LABEL_CHAR + 56) if loops else 0
    title = f"{source} — {len(graph.entities)} models, {len(graph.links)} relations"
    out = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_n(width)}" height="{_n(height)}" '
        f'viewBox="0 0 {_n(width)} {_n(height)}" font-family={quoteattr(FONT)} '
        f'font-size="{SIZE}">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{_n(width)}" height="{_n(height)}" fill="#ffffff"/>',
        _text(MARGIN, MARGIN + 14, title, size=14, weight="bold"),
        '<g class="relations">',
    ]
    pairs: dict[tuple[str, str], list[Link]] = {}
    for link in graph.links:
        first, second = sorted((link.parent, link.child))
        pairs.setdefault((first, second), []).append(link)
    for group in pairs.values():
        for number, link in enumerate(group):
            offset = (number - (len(group) - 1) / 2) * 18
            share = (number + 1) / (len(group) + 1)  # labels of side-by-side links apart
            out += _connector(link, boxes[link.parent], boxes[link.child], offset, share)
    out.append("</g>")
    out.append('<g class="entities">')
    for entity in graph.entities:
        out += _entity(boxes[entity.name])
    out.append("</g>")
    legend = " · ".join(
        ("PK primary key", "FK foreign key", "UK unique", "? nullable", "dashed: many-to-many")
    )
    out.append(_text(MARGIN, height - MARGIN + 4, legend, size=11, fill=LINE))
    out.append("</svg>")
    return "\n".join(out) + "\n"


# Boxes


def _keys(column: Column) -> str:
    return ",".join(column.keys)


def _type(column: Column) -> str:
    size = column.size
    shown = column.type + (size if size == "[]" else f"({size})" if size else "")
    return shown + ("?" if "nullable" in column.notes else "")


def _widths(entity: Entity) -> tuple[int, int, int]:
    """Characters of the key, name and type columns of a box."""
    columns = entity.columns
    return (
        max((len(_keys(c)) for c in columns), default=0),
        max((len(c.name) for c in columns), default=0),
        max((len(_type(c)) for c in columns), default=0),
    )


def _subtitle(entity: Entity) -> str:
    return entity.table + (f" ({entity.engine})" if entity.engine != "sql" else "")


def _size(entity: Entity) -> tuple[float, float]:
    keys, name, kind = _widths(entity)
    body = (keys + 1 if keys else 0) + name + 2 + kind
    head = max(len(entity.name) * 1.1, len(_subtitle(entity)) * 0.92)
    width = PAD * 2 + CHAR * max(body, head, 12)
    return math.ceil(width), HEAD + ROW * len(entity.columns) + 6


def _entity(box: _Box) -> list[str]:
    entity = box.entity
    keys, name, _ = _widths(entity)
    x, y, w = box.x, box.y, box.w
    name_x = x + PAD + (CHAR * (keys + 1) if keys else 0)
    type_x = name_x + CHAR * (name + 2)
    out = [
        f'<g class="entity" data-model={quoteattr(entity.name)}>',
        f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(box.h)}" rx="4" '
        f'fill="#ffffff" stroke="{INK}" stroke-width="1.2"/>',
        f'<path d="M{_n(x)},{_n(y + HEAD)} V{_n(y + 4)} Q{_n(x)},{_n(y)} {_n(x + 4)},{_n(y)} '
        f'H{_n(x + w - 4)} Q{_n(x + w)},{_n(y)} {_n(x + w)},{_n(y + 4)} V{_n(y + HEAD)} Z" '
        f'fill="{HEAD_FILL}" stroke="{INK}" stroke-width="1.2"/>',
        _text(x + w / 2, y + 17, entity.name, size=13, weight="bold", anchor="middle"),
        _text(x + w / 2, y + 32, _subtitle(entity), size=11, fill=LINE, anchor="middle"),
    ]
    for number, column in enumerate(entity.columns):
        base = y + HEAD + ROW * number + 13
        if number % 2:
            top = y + HEAD + ROW * number
            out.append(
                f'<rect x="{_n(x + 1)}" y="{_n(top)}" width="{_n(w - 2)}" height="{ROW}" '
                'fill="#f4f6f9"/>'
            )
        if column.keys:
            out.append(_text(x + PAD, base, _keys(column), weight="bold", fill="#b03a2e"))
        out.append(_text(name_x, base, column.name, fill=INK))
        out.append(_text(type_x, base, _type(column), fill="#1f618d"))
    out.append("</g>")
    return out


# Connectors


def _exit(box: _Box, px: float, py: float, dx: float, dy: float) -> tuple[float, float]:
    """Where the ray from (px, py), inside ``box``, along (dx, dy) leaves it."""
    limits = []
    if dx:
        limits.append(((box.x + box.w if dx > 0 else box.x) - px) / dx)
    if dy:
        limits.append(((box.y + box.h if dy > 0 else box.y) - py) / dy)
    t = min(limits) if limits else 0.0
    return px + dx * t, py + dy * t


def _connector(link: Link, parent: _Box, child: _Box, offset: float, share: float) -> list[str]:
    dashed = ' stroke-dasharray="6 4"' if link.through else ""
    attributes = (
        f'class="relation" data-parent={quoteattr(link.parent)} '
        f"data-child={quoteattr(link.child)} data-label={quoteattr(link.label)}"
    )
    out = [f"<g {attributes}>"]
    if parent is child:
        return out + _loop(link, parent, dashed) + ["</g>"]
    dx, dy = child.cx - parent.cx, child.cy - parent.cy
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    nx, ny = -uy * offset, ux * offset
    ax, ay = _exit(parent, parent.cx + nx, parent.cy + ny, ux, uy)
    bx, by = _exit(child, child.cx + nx, child.cy + ny, -ux, -uy)
    out.append(
        f'<line x1="{_n(ax)}" y1="{_n(ay)}" x2="{_n(bx)}" y2="{_n(by)}" '
        f'stroke="{LINE}" stroke-width="1.4"{dashed}/>'
    )
    out += _end(ax, ay, ux, uy, link.parent_side)
    out += _end(bx, by, -ux, -uy, link.child_side)
    out += _label(ax + (bx - ax) * share, ay + (by - ay) * share, link.label)
    out.append("</g>")
    return out


def _loop(link: Link, box: _Box, dashed: str) -> list[str]:
    """A link from a model to itself: a loop off the box's right side."""
    right, y1, y2 = box.x + box.w, box.y + HEAD / 2 - 8, box.y + HEAD / 2 + 8
    out = [
        f'<path d="M{_n(right)},{_n(y1)} H{_n(right + 40)} V{_n(y2)} H{_n(right)}" '
        f'fill="none" stroke="{LINE}" stroke-width="1.4"{dashed}/>'
    ]
    out += _end(right, y1, 1, 0, link.parent_side)
    out += _end(right, y2, 1, 0, link.child_side)
    return out + _label(right + 40, box.y + HEAD / 2, link.label, anchor="start")


def _end(x: float, y: float, ux: float, uy: float, side: Cardinality) -> list[str]:
    """The crow's-foot end at (x, y) on a box border; (ux, uy) points away from the box."""
    nx, ny = -uy, ux

    def at(along: float, across: float) -> tuple[float, float]:
        return x + ux * along + nx * across, y + uy * along + ny * across

    def bar(along: float) -> str:
        (x1, y1), (x2, y2) = at(along, -6), at(along, 6)
        return _segment(x1, y1, x2, y2)

    def ring(along: float) -> str:
        cx, cy = at(along, 0)
        return (
            f'<circle cx="{_n(cx)}" cy="{_n(cy)}" r="4" fill="#ffffff" '
            f'stroke="{LINE}" stroke-width="1.4"/>'
        )

    if side == "one":
        return [bar(8), bar(13)]
    if side == "zero_or_one":
        return [bar(8), ring(17)]
    (tx, ty) = at(12, 0)
    feet = [_segment(*at(0, across), tx, ty) for across in (-7, 7)]
    return [*feet, ring(17)]


def _segment(x1: float, y1: float, x2: float, y2: float) -> str:
    return (
        f'<line x1="{_n(x1)}" y1="{_n(y1)}" x2="{_n(x2)}" y2="{_n(y2)}" '
        f'stroke="{LINE}" stroke-width="1.4"/>'
    )


def _label(x: float, y: float, text: str, anchor: str = "middle") -> list[str]:
    width = len(text) * LABEL_CHAR + 8
    left = x - width / 2 if anchor == "middle" else x + 2
    text_x = x if anchor == "middle" else x + 6
    return [
        f'<rect x="{_n(left)}" y="{_n(y - 9)}" width="{_n(width)}" height="16" rx="3" '
        'fill="#ffffff" fill-opacity="0.92"/>',
        _text(text_x, y + 3.5, text, size=11, fill="#7b241c", anchor=anchor),
    ]


# The grid


def _place(
    names: Sequence[str], links: Iterable[Link], rows: int, cols: int
) -> dict[str, tuple[int, int]]:
    """A grid cell per model: the most connected first, then cells swapped while a swap
    lowers the cost (connector lengths, and connectors crossing other boxes)."""
    pairs = [(k.parent, k.child) for k in links if k.parent != k.child]
    degree = {n: sum(n in p for p in pairs) for n in names}
    order = sorted(names, key=lambda n: (-degree[n], n)) if len(names) <= OPTIMISE_UP_TO else names
    cells = [(r, c) for r in range(rows) for c in range(cols)]
    slots: list[str | None] = [*order, *([None] * (len(cells) - len(order)))]
    if len(names) > OPTIMISE_UP_TO or not pairs:
        return {n: cells[i] for i, n in enumerate(slots) if n is not None}
    cost = _cost(slots, cells, pairs)
    improved = True
    while improved:
        improved = False
        for i in range(len(slots)):
            for j in range(i + 1, len(slots)):
                if slots[i] is None and slots[j] is None:
                    continue
                slots[i], slots[j] = slots[j], slots[i]
                new = _cost(slots, cells, pairs)
                if new < cost - 1e-9:
                    cost, improved = new, True
                else:
                    slots[i], slots[j] = slots[j], slots[i]
    return {n: cells[i] for i, n in enumerate(slots) if n is not None}


def _cost(
    slots: Sequence[str | None], cells: Sequence[tuple[int, int]], pairs: Sequence[tuple[str, str]]
) -> float:
    where = {n: cells[i] for i, n in enumerate(slots) if n is not None}
    total = 0.0
    for a, b in pairs:
        (r1, c1), (r2, c2) = where[a], where[b]
        total += math.hypot(r1 - r2, (c1 - c2) * 1.3)
        for other, (r, c) in where.items():
            if other not in (a, b) and _crosses(c1, r1, c2, r2, c, r):
                total += 6
    return total


def _crosses(x1: float, y1: float, x2: float, y2: float, cx: float, cy: float) -> bool:
    """Whether the segment passes through the square of half-side 0.45 around (cx, cy)."""
    half = 0.45
    t0, t1 = 0.0, 1.0
    for start, delta, low, high in (
        (x1, x2 - x1, cx - half, cx + half),
        (y1, y2 - y1, cy - half, cy + half),
    ):
        if delta == 0:
            if not low <= start <= high:
                return False
            continue
        a, b = (low - start) / delta, (high - start) / delta
        t0, t1 = max(t0, min(a, b)), min(t1, max(a, b))
        if t0 > t1:
            return False
    return True


# Text


def _text(
    x: float,
    y: float,
    text: str,
    *,
    size: int = SIZE,
    weight: str = "normal",
    fill: str = INK,
    anchor: str = "start",
) -> str:
    attributes = [f'x="{_n(x)}"', f'y="{_n(y)}"']
    if size != SIZE:
        attributes.append(f'font-size="{size}"')
    if weight != "normal":
        attributes.append(f'font-weight="{weight}"')
    if anchor != "start":
        attributes.append(f'text-anchor="{anchor}"')
    attributes.append(f'fill="{fill}"')
    return f"<text {' '.join(attributes)}>{escape(text)}</text>"


def _n(value: float) -> str:
    """A coordinate: one decimal at most, no trailing zero."""
    rounded = round(value, 1)
    if rounded == 0:
        rounded = 0.0
    return f"{rounded:.1f}".rstrip("0").rstrip(".")
