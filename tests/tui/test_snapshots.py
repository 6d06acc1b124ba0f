"""Snapshots of the screens on the fixed fleet (tui/fleet_data.py) at 2025-06-01 12:00 UTC.

Update them with `pytest tests/tui --snapshot-update` after checking the new SVGs by eye.
"""

from edgetui.settings import Settings
from edgetui.tui.app import EdgetuiApp, create_app
from tui.fleet_data import fixed_clock
from tui.models_data import fill_models


def test_fleet_screen_80x24(snap_compare, app: EdgetuiApp):
    """The fleet screen in the dark theme at 80x24.

    A person should see the summary line "3 online · 1 offline · 1 error ·
    6 total" with discovery idle, then the one-line filter prompt. Six rows
    follow, sorted by name, with the columns name, status, last seen, board and
    accelerators ("google tpu", "nvidia gpu"), because memory, cores, arch
    and release do not fit. Online rows are green, nuc-gateway is an amber "offline: connection
    ref…", imx8-kiosk a red "error: shim reply was n…", new-device "unknown" and
    "never". rpi4-aarch64 was seen "12s ago". The cursor is on coral-devboard,
    and the footer lists Open, Mark, Discover, Filter, Models, Help and Quit,
    with ^p Palette at the right.
    """
    assert snap_compare(app, terminal_size=(80, 24))


def test_fleet_screen_high_contrast(snap_compare, fleet):
    """The fleet screen in edgetui-high-contrast, filtered to arch=aarch64, at 80x24.

    A person should see a black background, white text and a yellow cursor row.
    Only coral-devboard, jetson-nano and rpi4-aarch64 are listed, and the
    filter line shows "arch=aarch64".
    """
    app = create_app(fleet, Settings(theme="edgetui-high-contrast"), clock=fixed_clock)
    assert snap_compare(app, terminal_size=(80, 24), press=["slash", *"arch=aarch64", "enter"])


def test_device_screen(snap_compare, app: EdgetuiApp):
    """The device screen of rpi4-aarch64 at 100x50, opened with Down five times, then Enter.

    A person should see the title "rpi4-aarch64  online  127.0.0.1:40001" and
    the Status section with "last seen 2025-06-01 11:59:48 UTC (12s ago)".
    The Facts section lists every fact, such as kernel 6.1.21-v8+, Debian 12,
    4x cortex-a72 @ 1800 MHz, memory total 7.6 GiB and docker 24.0.5 running.
    "What changed" has one line, "mem_total_mb 3794 -> 7812", under
    "2025-06-01 11:59:48 UTC (12s ago)". The events section reads "No events
    recorded for this device." Releases reads "Releases unknown: Cannot reach device
    rpi4-aarch64 at 127.0.0.1:40001: …", because no device listens there, and Timeline reads "No update or
    rollback recorded for this device." The footer lists Back, Rediscover and Releases.
    """

    async def open_and_wait(pilot):
        await pilot.press(*["down"] * 5, "enter")
        # The releases worker must finish first, or the section would show "Reading…" only on a fast machine.
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()

    assert snap_compare(app, terminal_size=(100, 50), run_before=open_and_wait)


def test_models_screen(snap_compare, fleet):
    """The Models screen at 120x36 on fixed records (tui/models_data.py), opened with m.

    A person should see the title "Models  1 model optimized" and one model row:
    digits_mlp, sha256 d989d8e2edec, 0.21 MB, classifier, optimized "1h ago".
    The variants table lists fp32-optimized, int8-dynamic and pruned-30 with
    sizes, p50/p95 in ms, "rpi4 0.41" as the device p50 of int8-dynamic,
    agreements such as "0.8750 top1", int8-dynamic "outside" the budget and
    pruned-30 recommended for laptop. Below, the detail pane describes
    fp32-optimized and ends with "Deploy: press u in the variants table to
    package this variant …", and two bar charts, "size MB" and "p50 ms
    (laptop)", show one bar per variant. The footer lists Back, Optimize,
    Deploy, Help and Quit.
    """
    fill_models(fleet.store)
    app = create_app(fleet, Settings(), clock=fixed_clock)
    assert snap_compare(app, terminal_size=(120, 36), press=["m"])
