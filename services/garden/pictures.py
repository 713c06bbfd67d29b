"""Plant pictures (`GET …/plants/{indicator}.svg`): a pot, a plant and its ripe fruit, as SVG.

The picture depends only on its arguments, so the same plant always gives the
same bytes (cacheable, comparable). The plant's size and shape show the stage
(seed, sprout, leafy, flowering, fruiting); pests crawl on a plant with pests;
a withered plant droops and turns brown. Ripe fruit waiting to be harvested
sit beside the pot, drawn up to `FRUIT_DRAWN_MAX`; beyond, a badge gives the count
(in segment digits, so it looks the same without any font).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Final, get_args
from xml.sax.saxutils import escape

from services.garden.domain.config import PlantState

SVG_NS: Final = "http://www.w3.org/2000/svg"
WIDTH, HEIGHT = 200, 240
STAGE_NAMES: Final = ("seed", "sprout", "leafy", "flowering", "fruiting")
FRUIT_DRAWN_MAX: Final = 6
FRUIT_KINDS: Final = ("watermelon", "apple", "grape", "corn", "orange", "strawberry")
"""Kinds with a picture of their own; any other kind is drawn as a generic fruit."""

_BASE_X, _BASE_Y = 100, 176
_STEM_HEIGHT: Final = (0, 34, 62, 92, 116)
_LEAF_PAIRS: Final = (0, 1, 2, 3, 3)
_LEAF_SCALE: Final = (0.0, 0.7, 0.9, 1.0, 1.1)
_LEAF_LENGTH: Final = 28
_FRUIT_SPOTS: Final = ((30, 214), (170, 214), (30, 186), (170, 186), (30, 158), (170, 158))
BADGE_MAX: Final = 999
_SEGMENTS: Final = {
    "a": ((0, -7), (8, -7)),
    "b": ((8, -7), (8, 0)),
    "c": ((8, 0), (8, 7)),
    "d": ((0, 7), (8, 7)),
    "e": ((0, 0), (0, 7)),
    "f": ((0, -7), (0, 0)),
    "g": ((0, 0), (8, 0)),
}
_DIGITS: Final = {
    "0": "abcdef",
    "1": "bc",
    "2": "abged",
    "3": "abgcd",
    "4": "fgbc",
    "5": "afgcd",
    "6": "afgedc",
    "7": "abc",
    "8": "abcdefg",
    "9": "abcdfg",
}
_NOT_XML: Final = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True, slots=True)
class _Palette:
    sky: str
    leaf: str
    leaf_edge: str
    stem: str
    soil: str
    petal: str


_PALETTES: Final[dict[PlantState, _Palette]] = {
    "healthy": _Palette("#eaf6ff", "#43a047", "#2e7d32", "#388e3c", "#5d4037", "#f8bbd0"),
    "pests": _Palette("#eef5e6", "#9ccc65", "#689f38", "#558b2f", "#5d4037", "#f8bbd0"),
    "withered": _Palette("#f7efe1", "#b08d57", "#8d6e3f", "#8d6e3f", "#a1887f", "#bcaaa4"),
}

_FRUIT_SHAPES: Final[dict[str, str]] = {
    "watermelon": (
        '<ellipse rx="13" ry="10" fill="#2e7d32"/>'
        '<path d="M-8 -7 Q-11 0 -8 7 M0 -10 Q-3 0 0 10 M8 -7 Q5 0 8 7" '
        'stroke="#1b5e20" stroke-width="2" fill="none"/>'
        '<ellipse cx="-5" cy="-4" rx="3" ry="2" fill="#81c784"/>'
    ),
    "apple": (
        '<circle r="10" fill="#e53935"/>'
        '<path d="M0 -9 Q1 -14 3 -15" stroke="#5d4037" stroke-width="2" fill="none"/>'
        '<path d="M2 -12 Q8 -16 10 -11 Q5 -9 2 -12 Z" fill="#43a047"/>'
        '<circle cx="-4" cy="-3" r="2.5" fill="#ef9a9a"/>'
    ),
    "grape": (
        '<path d="M0 -12 L0 -8" stroke="#5d4037" stroke-width="2"/>'
        '<g fill="#7b1fa2" stroke="#4a148c" stroke-width="0.8">'
        '<circle cx="-6" cy="-5" r="4"/><circle cx="0" cy="-5" r="4"/><circle cx="6" cy="-5" r="4"/>'
        '<circle cx="-3" cy="1" r="4"/><circle cx="3" cy="1" r="4"/><circle cx="0" cy="7" r="4"/>'
        "</g>"
    ),
    "corn": (
        '<path d="M-2 12 Q-12 4 -7 -8 Q-5 2 -2 12 Z M2 12 Q12 4 7 -8 Q5 2 2 12 Z" fill="#689f38"/>'
        '<ellipse rx="5.5" ry="12" fill="#fbc02d"/>'
        '<path d="M-4 -6 H4 M-5 -2 H5 M-5 2 H5 M-4 6 H4 M0 -11 V11" stroke="#f57f17" '
        'stroke-width="0.9"/>'
    ),
    "orange": (
        '<circle r="10" fill="#fb8c00"/>'
        '<g fill="#ef6c00"><circle cx="3" cy="2" r="0.9"/><circle cx="-3" cy="4" r="0.9"/>'
        '<circle cx="5" cy="-3" r="0.9"/><circle cx="-5" cy="-1" r="0.9"/></g>'
        '<path d="M0 -10 Q5 -15 9 -12 Q4 -8 0 -10 Z" fill="#43a047"/>'
    ),
    "strawberry": (
        '<path d="M0 12 C-12 3 -11 -8 0 -7 C11 -8 12 3 0 12 Z" fill="#e53935"/>'
        '<g fill="#ffeb3b"><circle cx="-4" cy="-2" r="0.9"/><circle cx="3" cy="-3" r="0.9"/>'
        '<circle cx="0" cy="2" r="0.9"/><circle cx="-3" cy="5" r="0.9"/>'
        '<circle cx="4" cy="4" r="0.9"/></g>'
        '<path d="M-7 -7 L-2 -9 L0 -13 L2 -9 L7 -7 L2 -6 L0 -5 L-2 -6 Z" fill="#43a047"/>'
    ),
}
_GENERIC_FRUIT: Final = (
    '<circle r="10" fill="#f48fb1" stroke="#c2185b" stroke-width="1"/>'
    '<path d="M0 -10 Q-1 -4 0 2" stroke="#c2185b" stroke-width="1" fill="none"/>'
    '<path d="M0 -10 Q5 -15 9 -12 Q4 -8 0 -10 Z" fill="#43a047"/>'
)
_BUG: Final = (
    '<path d="M-5 -3 L5 3 M-5 3 L5 -3 M0 -4 V4" stroke="#212121" stroke-width="0.9"/>'
    '<ellipse rx="4" ry="3" fill="#4e342e"/><circle cx="4" r="2" fill="#212121"/>'
    '<circle cx="-1" cy="-1" r="0.8" fill="#d84315"/>'
)


def _n(value: float) -> str:
    """Format a coordinate with at most two decimals (the same text on every platform)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _text(value: str) -> str:
    return escape(_NOT_XML.sub("", value), {'"': "&quot;", "'": "&apos;"})


def _at(x: float, y: float, body: str, *, scale: float = 1.0, angle: float = 0.0) -> str:
    transform = f"translate({_n(x)} {_n(y)})"
    if angle:
        transform += f" rotate({_n(angle)})"
    if scale != 1.0:
        transform += f" scale({_n(scale)})"
    return f'<g transform="{transform}">{body}</g>'


def _stem_top(stage: int, state: PlantState) -> tuple[float, float]:
    height = _STEM_HEIGHT[stage]
    if state == "withered":  # the top bends over
        return _BASE_X + height * 0.25, _BASE_Y - height * 0.85
    return _BASE_X, _BASE_Y - height


def _leaves(
    stage: int, state: PlantState, p: _Palette
) -> tuple[list[str], list[tuple[float, float]]]:
    """Return the leaves and the tip of each leaf of the top pair."""
    top_x, top_y = _stem_top(stage, state)
    pairs, scale = _LEAF_PAIRS[stage], _LEAF_SCALE[stage]
    right, left = (35.0, 145.0) if state == "withered" else (-30.0, -150.0)
    leaf = f'<path d="M0 0 Q14 -11 28 0 Q14 11 0 0 Z" fill="{p.leaf}" stroke="{p.leaf_edge}" stroke-width="1.5"/>'
    shapes: list[str] = []
    tips: list[tuple[float, float]] = []
    for i in range(pairs):
        share = (i + 1) / (pairs + 1)
        x = _BASE_X + (top_x - _BASE_X) * share
        y = _BASE_Y + (top_y - _BASE_Y) * share
        for angle in (right, left):
            shapes.append(_at(x, y, leaf, scale=scale, angle=angle))
            if i == pairs - 1:
                reach = _LEAF_LENGTH * scale
                rad = math.radians(angle)
                tips.append((x + reach * math.cos(rad), y + reach * math.sin(rad)))
    return shapes, tips


def _flower(x: float, y: float, p: _Palette) -> str:
    petals = "".join(
        f'<circle cx="{_n(5 * math.cos(math.radians(72 * k - 90)))}" '
        f'cy="{_n(5 * math.sin(math.radians(72 * k - 90)))}" r="4" fill="{p.petal}"/>'
        for k in range(5)
    )
    return _at(x, y, petals + '<circle r="3" fill="#fdd835"/>')


def _plant(stage: int, state: PlantState, p: _Palette) -> list[str]:
    if stage == 0:
        seed = "#bcaaa4" if state == "withered" else "#8d6e63"
        parts = [f'<ellipse cx="100" cy="173" rx="7" ry="5" fill="{seed}" stroke="#4e342e"/>']
        if state == "pests":
            parts += [_at(84, 172, _BUG), _at(117, 174, _BUG)]
        return parts
    top_x, top_y = _stem_top(stage, state)
    bend = 10 if state == "withered" else 5
    mid_y = _BASE_Y - _STEM_HEIGHT[stage] * 0.5
    parts = [
        f'<path d="M{_BASE_X} {_BASE_Y} Q{_n(_BASE_X + bend)} {_n(mid_y)} {_n(top_x)} {_n(top_y)}" '
        f'stroke="{p.stem}" stroke-width="{_n(2 + stage)}" fill="none" stroke-linecap="round"/>'
    ]
    leaves, tips = _leaves(stage, state, p)
    parts += leaves
    if stage >= 3:
        parts.append(_flower(top_x, top_y - 3, p))
    if stage == 3:
        parts += [_flower(x, y, p) for x, y in tips]
    if stage == 4:
        unripe = "#a1887f" if state == "withered" else "#aed581"
        parts += [f'<circle cx="{_n(x)}" cy="{_n(y + 6)}" r="5" fill="{unripe}"/>' for x, y in tips]
    if state == "pests":
        spots = [*tips, (top_x - 4, (top_y + _BASE_Y) / 2)]
        parts += [_at(x, y, _BUG) for x, y in spots]
    return parts


def _pot(state: PlantState, p: _Palette) -> list[str]:
    parts = [
        '<ellipse cx="100" cy="230" rx="80" ry="6" fill="#000" fill-opacity="0.12"/>',
        '<path d="M60 182 L140 182 L131 228 L69 228 Z" fill="#c4663a"/>',
        '<rect x="54" y="172" width="92" height="12" rx="3" fill="#a9532a"/>',
        f'<ellipse cx="100" cy="176" rx="42" ry="4" fill="{p.soil}"/>',
    ]
    if state == "withered":
        parts.append(
            '<path d="M72 176 L80 175 L86 177 M112 175 L120 177 L127 176" '
            'stroke="#6d4c41" stroke-width="1" fill="none"/>'
        )
    return parts


def _count(number: int) -> str:
    """Draw `number` (at most 999; above, 999 and a plus) in segment digits: no font needed."""
    digits = str(min(number, BADGE_MAX))
    width = 11 * len(digits) - 3
    strokes = []
    for i, digit in enumerate(digits):
        x0 = i * 11 - width / 2
        for segment in _DIGITS[digit]:
            (xa, ya), (xb, yb) = _SEGMENTS[segment]
            strokes.append(f"M{_n(x0 + xa)} {ya} L{_n(x0 + xb)} {yb}")
    if number > BADGE_MAX:
        strokes.append(f"M{_n(width / 2 + 2)} 0 h6 M{_n(width / 2 + 5)} -3 v6")
    path = " ".join(strokes)
    drawn = (
        f'<path d="{path}" stroke="#fff" stroke-width="2.2" stroke-linecap="round" fill="none"/>'
    )
    return _at(0, 0, drawn, scale=0.7) if len(digits) > 2 else drawn


def _ripe(ripe_fruit: int, fruit: str) -> list[str]:
    shape = _FRUIT_SHAPES.get(fruit, _GENERIC_FRUIT)
    drawn = min(ripe_fruit, FRUIT_DRAWN_MAX)
    parts = [_at(x, y, shape) for x, y in _FRUIT_SPOTS[:drawn]]
    if ripe_fruit > FRUIT_DRAWN_MAX:
        circle = '<circle r="20" fill="#d32f2f" stroke="#fff" stroke-width="2"/>'
        badge = circle + _count(ripe_fruit)
        parts.append(_at(174, 26, badge))
    return parts


def plant_svg(stage: int, state: PlantState, ripe_fruit: int, fruit: str, *, title: str) -> str:
    """Draw a plant at `stage` in `state` with `ripe_fruit` of kind `fruit` waiting beside it."""
    if not 0 <= stage < len(STAGE_NAMES):
        raise ValueError(f"stage must be 0–{len(STAGE_NAMES) - 1}, not {stage}")
    if state not in get_args(PlantState):
        raise ValueError(f"unknown plant state {state!r}")
    if ripe_fruit < 0:
        raise ValueError("ripe_fruit must not be negative")
    p = _PALETTES[state]
    label = _text(title)
    description = _text(f"{STAGE_NAMES[stage]}, {state}, {ripe_fruit} ripe {fruit}")
    body = [
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="{p.sky}"/>',
        *_pot(state, p),
        *_plant(stage, state, p),
        *_ripe(ripe_fruit, fruit),
    ]
    return (
        f'<svg xmlns="{SVG_NS}" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{label}">'
        f"<title>{label}</title><desc>{description}</desc>" + "".join(body) + "</svg>\n"
    )
