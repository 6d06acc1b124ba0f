"""Snapshots of the telemetry views on the fixed fleet with the telemetry of tui/test_telemetry_data.py.

The clock is fixed at 2025-06-01 12:00 UTC and the collector is off, so every
value comes from the SQLite file. Update them with
`pytest tests/tui --snapshot-update` after checking the new SVGs by eye.
"""

from edgetui.service import Fleet
from edgetui.settings import Settings
from edgetui.tui.app import create_app
from tui.fleet_data import fixed_clock
from tui.test_telemetry_data import fill_telemetry


async def settle(pilot) -> None:
    """Wait until the telemetry reads, and the redraws and reads that they start, have finished."""
    for _ in range(4):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


def test_telemetry_fleet_80x24(snap_compare, fleet: Fleet):
    """The fleet screen at 80x24 with telemetry.

    A person should see the columns name, status, alert, p95 latency, errors and
    last seen; board and accelerators gave way to the sparklines. jetson-nano
    and nuc-gateway have a red ▲, coral-devboard an amber △, rpi4-aarch64 no
    marker (its alert resolved). The p95 column of rpi4-aarch64 shows the
    newest 11 samples with a tall spike in the middle, and jetson-nano's
    errors column is full blocks. imx8-kiosk and new-device have empty
    sparklines. A muted legend line above the footer explains ▲, △ and the
    sparklines, and the compact footer lists every key from Open to Quit,
    "a Alerts" among them.
    """
    fill_telemetry(fleet.store.path)
    app = create_app(fleet, Settings(), clock=fixed_clock)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle)


def test_telemetry_fleet_140x24(snap_compare, fleet: Fleet):
    """The fleet screen at 140x24 with telemetry: the sparklines show 30 samples each, and board returns."""
    fill_telemetry(fleet.store.path)
    app = create_app(fleet, Settings(), clock=fixed_clock)
    assert snap_compare(app, terminal_size=(140, 24), run_before=settle)


def test_telemetry_device_5m(snap_compare, fleet: Fleet):
    """The device screen of rpi4-aarch64 at 110x56, range 5 minutes.

    A person should see, under Status, the Telemetry section: the header
    "5 minutes (raw samples) · t: next range · latest sample 11:59:59 UTC (1s
    ago) · release vad-1.2.0". The latency chart has green p50, amber p95 and
    red p99 waves from -5m to now, with a spike shortly before now. The
    requests/s chart stays between 8 and 12, and the error rate chart has a
    few spikes. Below, gauges: CPU, memory 1480 / 3794 MiB, temperature 61.5 °C,
    disk 38 % used, 21.0 GiB free, and drift PSI 0.140 in amber (past the
    watch mark) with ↑ and a sparkline of its newest scores, and "│ watch 0.1 │ act 0.25".
    The footer lists Back, Rediscover, Releases and Range.
    """
    fill_telemetry(fleet.store.path)
    app = create_app(fleet, Settings(), clock=fixed_clock)

    async def open_device(pilot):
        await settle(pilot)
        await pilot.press(*["down"] * 5, "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(110, 56), run_before=open_device)


def test_telemetry_device_24h(snap_compare, fleet: Fleet):
    """The device screen of rpi4-aarch64 at 110x56 after pressing 3: 24 hours of per-minute roll-ups.

    A person should see the header "24 hours (per-minute roll-ups)", the x
    axis from -24h to now, a low latency line with one tall peak near now
    (the slow five minutes half an hour ago), and a throughput between 10 and 12 requests/s.
    """
    fill_telemetry(fleet.store.path)
    app = create_app(fleet, Settings(), clock=fixed_clock)

    async def open_device(pilot):
        await settle(pilot)
        await pilot.press(*["down"] * 5, "enter")
        await settle(pilot)
        await pilot.press("3")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(110, 56), run_before=open_device)


def test_telemetry_device_empty(snap_compare, fleet: Fleet):
    """The device screen of imx8-kiosk, which sent no telemetry while the others did, at 100x30.

    A person should see the Telemetry section with "No telemetry yet." in
    bold, then how to get some: the collector starts with the TUI, and
    `edgetui collect imx8-kiosk` collects without it. No chart or gauge is drawn.
    """
    fill_telemetry(fleet.store.path)
    app = create_app(fleet, Settings(), clock=fixed_clock)

    async def open_device(pilot):
        await settle(pilot)
        await pilot.press("down", "enter")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(100, 30), run_before=open_device)


def test_alerts_screen_snapshot(snap_compare, fleet: Fleet):
    """The alerts screen at 120x24, opened with a.

    A person should see the title "Alerts  3 open │ open alerts and those
    resolved in the last 24 h", then rows newest first: nuc-gateway ▲ act
    (offline, 600), coral-devboard △ watch (latency-p95, 151) and jetson-nano
    ▲ act (error-rate, 0.2), all "open" since "0s ago", then rpi4-aarch64 △
    watch "resolved 0s ago", opened 25m ago. Each row ends with its message.
    The footer lists Device, Back, Open only, Help and Quit.
    """
    fill_telemetry(fleet.store.path)
    app = create_app(fleet, Settings(), clock=fixed_clock)

    async def open_alerts(pilot):
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(120, 24), run_before=open_alerts)


def test_alerts_screen_empty_snapshot(snap_compare, fleet: Fleet):
    """The alerts screen at 80x24 on a fleet without telemetry.

    A person should see "Alerts  0 open", an empty table header and the line
    "No telemetry yet, so no alert. The collector starts with the TUI (edgetui tui)."
    """
    app = create_app(fleet, Settings(), clock=fixed_clock)

    async def open_alerts(pilot):
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)

    assert snap_compare(app, terminal_size=(80, 24), run_before=open_alerts)
