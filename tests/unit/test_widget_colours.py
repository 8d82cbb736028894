"""The widget's colours, read from its stylesheet: contrast (WCAG 2.2: 4.5:1 for text, 3:1 for graphics)
and how far apart the kind colours stay for colour-blind readers.

Colour blindness is simulated with Machado, Oliveira and Fernandes (2009) at full severity
(protanopia, deuteranopia, tritanopia), applied in linear sRGB; the distance is CIEDE2000 in CIELAB
(D65). Kinds that share a colour family must differ in shape, and every kind is named in words
beside its colour, so colour is never the only cue.
"""

from __future__ import annotations

import itertools
import math
import re
from pathlib import Path

import pytest

from events.catalog import KINDS

CSS = (Path(__file__).resolve().parents[2] / "app" / "static" / "timeline-widget.css").read_text()

# Text against the backgrounds it is drawn on (WCAG 1.4.3: 4.5:1).
TEXT = [
    ("fg", "bg"),
    ("fg", "card"),
    ("muted", "bg"),
    ("muted", "card"),
    ("accent", "bg"),
    ("accent", "card"),
    ("dispute", "dispute-bg"),
    ("dispute", "bg"),
    ("retract", "retract-bg"),
    ("fg", "retract-bg"),
    ("fg", "dispute-bg"),
]
# Graphics that carry meaning (WCAG 1.4.11: 3:1): tick and break lines, the dispute ring, the
# preferred badge's border, the focus ring; every kind colour (marks, swatches, borders).
GRAPHICS = [("muted", "bg"), ("dispute", "bg"), ("preferred", "bg"), ("focus", "bg"), ("focus", "card")]
MIN_DELTA_E = 10.0  # CIEDE2000 between any two kind colours, as every reader sees them

MACHADO = {
    "protanopia": ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    "deuteranopia": ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    "tritanopia": ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}


# -- reading the stylesheet --------------------------------------------------------------------


def _block(text: str, selector: str) -> str:
    match = re.search(re.escape(selector) + r"\s*\{([^{}]*)\}", text)
    assert match, f"no {selector} block"
    return match.group(1)


def _variables(block: str) -> dict[str, str]:
    return {name: value.strip() for name, value in re.findall(r"--tlw-([\w-]+):\s*([^;]+);", block)}


def themes() -> dict[str, dict[str, str]]:
    light = _variables(_block(CSS, ".tlw"))
    dark_media = re.search(r"@media \(prefers-color-scheme: dark\)\s*\{(.*?)\n\}", CSS, re.S)
    assert dark_media, "no dark theme"
    dark = {**light, **_variables(_block(dark_media.group(1), ".tlw"))}
    return {"light": light, "dark": dark}


def kind_rules() -> dict[str, tuple[str, str]]:
    """kind -> (colour family, shape), from the .tlw-k-<kind> rules."""
    rules = {}
    for kind, body in re.findall(r"\.tlw-k-(\w+)\s*\{([^}]*)\}", CSS):
        found = _variables(body)
        colour = re.fullmatch(r"var\(--tlw-(c-[\w-]+)\)", found["kind"])
        shape = re.fullmatch(r"var\(--tlw-(s-[\w-]+)\)", found["shape"])
        assert colour and shape, (kind, body)
        rules[kind] = (colour.group(1), shape.group(1))
    return rules


# -- colour arithmetic -------------------------------------------------------------------------


def rgb(hex_colour: str) -> tuple[float, float, float]:
    value = hex_colour.lstrip("#")
    assert re.fullmatch(r"[0-9a-fA-F]{6}", value), hex_colour
    r, g, b = (int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return r, g, b


def linear(channel: float) -> float:
    return channel / 12.92 if channel <= 0.04045 else ((channel + 0.055) / 1.055) ** 2.4


def luminance(hex_colour: str) -> float:
    r, g, b = (linear(c) for c in rgb(hex_colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: str, b: str) -> float:
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def simulate(hex_colour: str, deficiency: str | None) -> tuple[float, float, float]:
    """Linear sRGB as seen with the deficiency (None: typical colour vision)."""
    red, green, blue = (linear(c) for c in rgb(hex_colour))
    lin = (red, green, blue)
    if deficiency is None:
        return lin
    m = MACHADO[deficiency]
    r, g, b = (min(1.0, max(0.0, sum(m[i][j] * lin[j] for j in range(3)))) for i in range(3))
    return r, g, b


def lab(linear_rgb: tuple[float, float, float]) -> tuple[float, float, float]:
    r, g, b = linear_rgb
    x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047
    y = 0.2126 * r + 0.7152 * g + 0.0722 * b
    z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883

    def f(t: float) -> float:
        return t ** (1 / 3) if t > 216 / 24389 else (24389 / 27 * t + 16) / 116

    return 116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def ciede2000(lab1: tuple[float, float, float], lab2: tuple[float, float, float]) -> float:
    l1, a1, b1 = lab1
    l2, a2, b2 = lab2
    c_mean = (math.hypot(a1, b1) + math.hypot(a2, b2)) / 2
    g = 0.5 * (1 - math.sqrt(c_mean**7 / (c_mean**7 + 25**7)))
    a1p, a2p = (1 + g) * a1, (1 + g) * a2
    c1p, c2p = math.hypot(a1p, b1), math.hypot(a2p, b2)
    h1p = math.degrees(math.atan2(b1, a1p)) % 360
    h2p = math.degrees(math.atan2(b2, a2p)) % 360
    dl, dc = l2 - l1, c2p - c1p
    dh = 0.0 if c1p * c2p == 0 else ((h2p - h1p + 180) % 360) - 180
    dH = 2 * math.sqrt(c1p * c2p) * math.sin(math.radians(dh / 2))
    l_mean, cp_mean = (l1 + l2) / 2, (c1p + c2p) / 2
    if c1p * c2p == 0:
        h_mean = h1p + h2p
    elif abs(h1p - h2p) <= 180:
        h_mean = (h1p + h2p) / 2
    else:
        h_mean = (h1p + h2p + 360) / 2 if h1p + h2p < 360 else (h1p + h2p - 360) / 2
    t = (
        1
        - 0.17 * math.cos(math.radians(h_mean - 30))
        + 0.24 * math.cos(math.radians(2 * h_mean))
        + 0.32 * math.cos(math.radians(3 * h_mean + 6))
        - 0.20 * math.cos(math.radians(4 * h_mean - 63))
    )
    s_l = 1 + 0.015 * (l_mean - 50) ** 2 / math.sqrt(20 + (l_mean - 50) ** 2)
    s_c = 1 + 0.045 * cp_mean
    s_h = 1 + 0.015 * cp_mean * t
    r_t = (
        -2
        * math.sqrt(cp_mean**7 / (cp_mean**7 + 25**7))
        * math.sin(math.radians(60 * math.exp(-(((h_mean - 275) / 25) ** 2))))
    )
    return math.sqrt((dl / s_l) ** 2 + (dc / s_c) ** 2 + (dH / s_h) ** 2 + r_t * (dc / s_c) * (dH / s_h))


def distance(a: str, b: str, deficiency: str | None) -> float:
    return ciede2000(lab(simulate(a, deficiency)), lab(simulate(b, deficiency)))


# -- the arithmetic itself, on known values ----------------------------------------------------


def test_the_arithmetic_on_known_values():
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    # Sharma, Wu and Dalal's CIEDE2000 test data, pairs 1 and 17.
    assert ciede2000((50.0, 2.6772, -79.7751), (50.0, 0.0, -82.7485)) == pytest.approx(2.0425, abs=1e-4)
    assert ciede2000((50.0, 2.5, 0.0), (73.0, 25.0, -18.0)) == pytest.approx(27.1492, abs=1e-4)
    # A dichromat sees red and green closer together than anyone sees them: the simulation works.
    assert distance("#d55e00", "#009e73", "deuteranopia") < distance("#d55e00", "#009e73", None)
    assert lab(simulate("#ffffff", "protanopia"))[0] == pytest.approx(100, abs=0.5)


# -- the stylesheet's colours ------------------------------------------------------------------


def test_every_kind_has_its_own_colour_and_shape():
    rules = kind_rules()
    assert set(rules) == set(KINDS)
    assert len(set(rules.values())) == len(rules), "two kinds look the same"
    light = themes()["light"]
    for colour, shape in rules.values():
        assert colour in light and shape in light


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_text_and_graphics_have_enough_contrast(theme):
    colours = themes()[theme]
    for fg, bg in TEXT:
        assert contrast(colours[fg], colours[bg]) >= 4.5, (theme, fg, bg, round(contrast(colours[fg], colours[bg]), 2))
    for fg, bg in GRAPHICS:
        assert contrast(colours[fg], colours[bg]) >= 3.0, (theme, fg, bg, round(contrast(colours[fg], colours[bg]), 2))
    for family in sorted({colour for colour, _ in kind_rules().values()}):
        for bg in ("bg", "card"):  # marks and borders on the page, swatches on the controls' panel
            ratio = contrast(colours[family], colours[bg])
            assert ratio >= 3.0, (theme, family, bg, round(ratio, 2))


@pytest.mark.parametrize("theme", ["light", "dark"])
@pytest.mark.parametrize("deficiency", [None, "protanopia", "deuteranopia", "tritanopia"])
def test_kind_colours_stay_apart_for_colour_blind_readers(theme, deficiency):
    colours = themes()[theme]
    families = sorted({colour for colour, _ in kind_rules().values()})
    assert len(families) >= 6
    closest = min((distance(colours[a], colours[b], deficiency), a, b) for a, b in itertools.combinations(families, 2))
    assert closest[0] >= MIN_DELTA_E, (theme, deficiency, closest)
