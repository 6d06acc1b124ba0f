"""`edgetui collect` messages: device counts, the summary of an unreachable device, and option errors."""

import socket

import pytest

from edgetui.cli import main
from edgetui.cli.collect_cmd import _print_summary
from edgetui.telemetry.link_state import LinkState


def closed_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on, so a connection is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_unreachable_device_ends_offline(tmp_path, capsys):
    inventory = tmp_path / "fleet.toml"
    inventory.write_text(f'[[device]]\nname = "gone"\nhost = "127.0.0.1"\nport = {closed_port()}\nuser = "edge"\n')
    db = tmp_path / "fleet.db"
    assert main(["--db", str(db), "fleet", "import", str(inventory)]) == 0
    capsys.readouterr()

    status = main(["--db", str(db), "collect", "--duration", "2"])

    captured = capsys.readouterr()
    summary = captured.out.strip().splitlines()
    assert status == 1
    assert "Collecting telemetry from 1 device;" in captured.err
    assert len(summary) == 1
    assert summary[0].startswith("gone: offline, 0 samples")
    assert "last error: " in summary[0]
    assert "connecting" not in captured.out


@pytest.mark.parametrize(("state", "expected"), [
    (LinkState(state="connecting", last_error="connection refused"), "d: offline, 0 samples"),
    (LinkState(state="connecting"), "no connection before collection stopped"),
    (LinkState(state="streaming", samples=3), "d: streaming, 3 samples"),
    (LinkState(state="error", last_error="host key rejected"), "d: error, 0 samples"),
])
def test_summary_names_final_state(capsys, state, expected):
    _print_summary({"d": state}, as_json=False)

    assert expected in capsys.readouterr().out


def test_bad_duration_names_option(tmp_path, capsys):
    status = main(["--db", str(tmp_path / "fleet.db"), "collect", "--duration", "10x"])

    err = capsys.readouterr().err
    assert status == 2
    assert "--duration '10x' is not a duration" in err
