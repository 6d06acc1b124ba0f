"""Every text of the high-contrast theme reaches the WCAG AA contrast ratio of 4.5:1.

Two checks: the theme's text colours against its backgrounds, and every
character that the screens actually draw, which also catches .tcss rules
that dim a colour.
"""

import io

import pytest
from rich.color import Color as RichColor
from rich.console import Console
from textual.color import Color

from edgetui.domain import HostKeyRequest
from edgetui.settings import Settings
from edgetui.tui.app import EdgetuiApp, create_app
from edgetui.tui.rollback_plan import plan_rollback
from edgetui.tui.screens.rollback_confirm import RollbackConfirmScreen
from tui.fleet_data import fixed_clock
from tui.models_data import fill_models

THEME = "edgetui-high-contrast"
MIN_TEXT_RATIO = 4.5
"""WCAG 2.1 AA minimum for normal text."""
MIN_GRAPHIC_RATIO = 3.0
"""WCAG 2.1 minimum for non-text graphics such as separator lines (success criterion 1.4.11)."""

INVISIBLE_RATIO = 1.1
"""Below this ratio a line has the colour of its background, so nothing is drawn."""

TEXT_VARIABLES = [
    "foreground", "text", "text-muted", "text-disabled", "foreground-muted", "foreground-disabled",
    "text-primary", "text-secondary", "text-accent", "text-success", "text-warning", "text-error",
    "primary", "secondary", "accent", "success", "warning", "error",
    "footer-foreground", "footer-key-foreground", "footer-description-foreground", "input-selection-foreground",
]
"""Theme variables that colour text: body, muted and hint text, status colours, the footer."""

BACKGROUND_VARIABLES = ["background", "surface", "panel", "footer-background"]
"""Backgrounds that text is drawn on, the table header's ($panel) included."""

HOST_KEY = HostKeyRequest(
    device="rpi4-aarch64", host="127.0.0.1", port=40001, key_type="ssh-ed25519",
    fingerprint="SHA256:Cg0sTQs1cIvBn2ZJ4v4mB3kUqvO0xU3Hc3AiX8m8i0E",
)


def luminance(red: int, green: int, blue: int) -> float:
    """Return the WCAG relative luminance of an sRGB colour."""
    def channel(value: int) -> float:
        value /= 255
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def contrast(first: tuple[int, int, int], second: tuple[int, int, int]) -> float:
    """Return the WCAG contrast ratio of two colours, from 1 to 21."""
    high, low = sorted([luminance(*first), luminance(*second)], reverse=True)
    return (high + 0.05) / (low + 0.05)


def resolve(value: str, background: Color) -> Color:
    """Turn a theme variable's value into an opaque colour as drawn on ``background``.

    "auto 60%" is Textual's contrasting text colour at that opacity.
    """
    if value.startswith("auto"):
        percent = value.split()[1].rstrip("%") if " " in value else "100"
        return background + background.get_contrast_text(float(percent) / 100)
    return background + Color.parse(value)


def test_contrast_formula():
    assert contrast((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    # The grey of the filter hint before the theme set text-disabled.
    assert contrast((0x58, 0x58, 0x58), (0, 0, 0)) < MIN_TEXT_RATIO


def test_theme_text_variables(app: EdgetuiApp):
    variables = app.available_themes[THEME].to_color_system().generate()
    failures = []
    for background_name in BACKGROUND_VARIABLES:
        background = Color.parse(variables[background_name])
        for name in TEXT_VARIABLES:
            colour = resolve(variables[name], background)
            ratio = contrast(colour.rgb, background.rgb)
            if ratio < MIN_TEXT_RATIO:
                failures.append(f"${name} {colour.hex} on ${background_name} {background.hex}: {ratio:.2f}")
    assert failures == []


def test_cursor_text_contrast(app: EdgetuiApp):
    variables = app.available_themes[THEME].to_color_system().generate()
    for prefix in ("block-cursor", "block-cursor-blurred"):
        background = Color.parse(variables[f"{prefix}-background"])
        foreground = resolve(variables[f"{prefix}-foreground"], background)
        assert contrast(foreground.rgb, background.rgb) >= MIN_TEXT_RATIO, prefix


def rgb(color: RichColor) -> tuple[int, int, int]:
    """Return a Rich colour as an (r, g, b) tuple."""
    triplet = color.get_truecolor()
    return triplet.red, triplet.green, triplet.blue


def low_contrast_cells(app: EdgetuiApp) -> list[str]:
    """Render the screen as the terminal would and list the texts below the minimum ratio."""
    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), force_terminal=True,
                      color_system="truecolor", record=True, legacy_windows=False)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens,
                                                       simplify=True))
    found = set()
    for segment in console._record_buffer:
        text, style = segment.text.strip(), segment.style
        if not text or style is None or style.color is None or style.bgcolor is None:
            continue
        foreground, background = rgb(style.color), rgb(style.bgcolor)
        if style.reverse:
            foreground, background = background, foreground
        # Box and block characters are lines, not text, so they need 3:1. A line
        # within 10% of the colour behind it draws nothing, as the edges of
        # Textual's buttons do in a theme without luminosity spread.
        graphic = all(0x2500 <= ord(char) <= 0x259F for char in text)
        minimum = MIN_GRAPHIC_RATIO if graphic else MIN_TEXT_RATIO
        ratio = contrast(foreground, background)
        if graphic and ratio < INVISIBLE_RATIO:
            continue
        if ratio < minimum:
            found.add(f"{text[:30]!r}: {ratio:.2f}")
    return sorted(found)


async def test_scan_sees_dim_text(app: EdgetuiApp):
    # The dark theme dims the filter hint on purpose, so the scan must report it.
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        found = low_contrast_cells(app)
    assert any("filter" in item for item in found)


async def test_rendered_screens_high_contrast(fleet):
    fill_models(fleet.store)
    app = create_app(fleet, Settings(theme=THEME), clock=fixed_clock)
    screens: dict[str, list[str]] = {}
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        screens["fleet"] = low_contrast_cells(app)
        await pilot.press("slash")
        await pilot.pause()
        screens["filter focused"] = low_contrast_cells(app)
        await pilot.press(*"foo=bar")
        await pilot.pause()
        screens["filter without match"] = low_contrast_cells(app)
        await pilot.press("escape", "question_mark")
        await pilot.pause()
        screens["help"] = low_contrast_cells(app)
        await pilot.press("escape")
        app.action_open_device("rpi4-aarch64")
        await pilot.pause()
        screens["device"] = low_contrast_cells(app)
        await pilot.press("escape")
        app.run_worker(app.ask_host_key(HOST_KEY), exit_on_error=False)
        await pilot.pause()
        screens["host key"] = low_contrast_cells(app)
        await pilot.press("n")
        await pilot.pause()
        await pilot.press("m")
        await pilot.pause()
        screens["models"] = low_contrast_cells(app)
        await pilot.press("o")
        await pilot.pause()
        screens["optimize dialog"] = low_contrast_cells(app)
    assert screens == {name: [] for name in screens}


async def test_deploy_and_rollback_high_contrast(fleet):
    app = create_app(fleet, Settings(theme=THEME), clock=fixed_clock, reconcile_interval=0)
    screens: dict[str, list[str]] = {}
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("u")
        await pilot.pause()
        screens["deploy"] = low_contrast_cells(app)
        app.screen.query_one("#selector").value = "nosuch-1"
        await pilot.pause()
        screens["deploy with invalid selector"] = low_contrast_cells(app)
        await pilot.press("escape")
        await app.push_screen(RollbackConfirmScreen([plan_rollback("rpi4-aarch64", None, "not read")]))
        await pilot.pause()
        screens["rollback dialog"] = low_contrast_cells(app)
    assert screens == {name: [] for name in screens}
