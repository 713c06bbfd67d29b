"""Plant pictures: valid, accessible, deterministic SVG that a real renderer draws."""

from __future__ import annotations

import itertools
import struct
import zlib
from functools import cache
from typing import get_args
from xml.etree import ElementTree

import pytest
import resvg_py

from services.garden.domain.config import PlantState
from services.garden.pictures import FRUIT_DRAWN_MAX, FRUIT_KINDS, SVG_NS, plant_svg

STATES: tuple[PlantState, ...] = get_args(PlantState)
FRUITS = (*FRUIT_KINDS, "dragon_fruit")  # the last has no picture of its own: the generic fruit
RIPE = (0, 1, 12)
NS = {"svg": SVG_NS}
Pixels = tuple[int, int, bytes]  # width, height, RGBA rows


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def decode_png(data: bytes) -> Pixels:
    """Decode an 8-bit RGBA, non-interlaced PNG (what the renderer writes) into raw pixels."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert (depth, colour, interlace) == (8, 6, 0)
    raw, stride, bpp = zlib.decompress(b"".join(chunks)), width * 4, 4
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
            add = (0, left, up, (left + up) // 2, _paeth(left, up, corner))[kind]
            line[i] = (line[i] + add) & 0xFF
        rows.append(line)
        previous = line
    return width, height, b"".join(rows)


def render(svg: str, *, width: int = 40) -> Pixels:
    return decode_png(bytes(resvg_py.svg_to_bytes(svg_string=svg, width=width)))


def colours(pixels: Pixels) -> set[bytes]:
    raw = pixels[2]
    return {raw[i : i + 4] for i in range(0, len(raw), 4)}


@cache
def picture(stage: int, state: PlantState, ripe: int, fruit: str) -> str:
    return plant_svg(stage, state, ripe, fruit, title=f"satisfaction plant of A1024 ({state})")


@pytest.mark.parametrize(("stage", "state"), list(itertools.product(range(5), STATES)))
def test_every_picture_is_accessible_svg_and_renders(stage: int, state: PlantState) -> None:
    for ripe, fruit in itertools.product(RIPE, FRUITS):
        svg = picture(stage, state, ripe, fruit)
        root = ElementTree.fromstring(svg)
        assert root.tag == f"{{{SVG_NS}}}svg"
        assert root.get("viewBox") == "0 0 200 240"
        assert root.get("role") == "img"
        assert root.get("aria-label") == f"satisfaction plant of A1024 ({state})"
        title = root.find("svg:title", NS)
        assert title is not None and title.text == root.get("aria-label")
        assert svg == plant_svg(stage, state, ripe, fruit, title=root.get("aria-label") or "")
        pixels = render(svg)
        assert (pixels[0], pixels[1]) == (40, 48)
        assert len(colours(pixels)) > 8  # not blank: sky, pot, plant …


@pytest.mark.parametrize("stage", range(5))
def test_state_shows_in_the_pixels(stage: int) -> None:
    drawn = {state: render(picture(stage, state, 0, "apple"), width=100) for state in STATES}
    assert len({p[2] for p in drawn.values()}) == 3


@pytest.mark.parametrize("state", STATES)
def test_stage_shows_in_the_pixels(state: PlantState) -> None:
    drawn = {render(picture(stage, state, 0, "apple"), width=100)[2] for stage in range(5)}
    assert len(drawn) == 5


def test_each_fruit_kind_looks_different() -> None:
    drawn = {render(picture(2, "healthy", 1, fruit), width=200)[2] for fruit in FRUITS}
    assert len(drawn) == len(FRUITS)


def test_ripe_fruit_are_drawn_up_to_the_cap_then_counted() -> None:
    def fruit_drawn(svg: str) -> int:
        root = ElementTree.fromstring(svg)
        return sum(
            1
            for g in root.iter(f"{{{SVG_NS}}}g")
            if (g.get("transform") or "").startswith(("translate(30 ", "translate(170 "))
        )

    counts = [fruit_drawn(picture(1, "healthy", n, "grape")) for n in (0, 1, 3)]
    assert counts == [0, 1, 3]
    assert fruit_drawn(plant_svg(1, "healthy", 50, "grape", title="t")) == FRUIT_DRAWN_MAX
    at_cap = plant_svg(1, "healthy", FRUIT_DRAWN_MAX, "grape", title="t")
    beyond = plant_svg(1, "healthy", FRUIT_DRAWN_MAX + 1, "grape", title="t")
    assert "translate(174 26)" not in at_cap and "translate(174 26)" in beyond
    assert (
        render(plant_svg(1, "healthy", 7, "grape", title="t"))[2]
        != render(plant_svg(1, "healthy", 8, "grape", title="t"))[2]
    )
    assert "6 ripe grape" in at_cap
    render(plant_svg(4, "pests", 100_000, "corn", title="t"))


def test_text_is_escaped() -> None:
    nasty = "Li <b>\"Na\"</b> & 'co' \x07</svg>"
    root = ElementTree.fromstring(plant_svg(3, "pests", 2, '<fruit&"x">', title=nasty))
    assert root.get("aria-label") == "Li <b>\"Na\"</b> & 'co' </svg>"
    title = root.find("svg:title", NS)
    assert title is not None and title.text == root.get("aria-label")
    assert len(list(root.iter(f"{{{SVG_NS}}}b"))) == 0


@pytest.mark.parametrize(
    ("stage", "state", "ripe"),
    [(-1, "healthy", 0), (5, "healthy", 0), (0, "sad", 0), (0, "pests", -1)],
)
def test_nonsense_is_refused(stage: int, state: PlantState, ripe: int) -> None:
    with pytest.raises(ValueError):
        plant_svg(stage, state, ripe, "apple", title="t")
