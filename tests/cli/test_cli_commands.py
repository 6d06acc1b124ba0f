"""The headless commands end to end: real sample fleet, real SSH, real SQLite."""

import asyncio
import json
import sqlite3

import pytest

from edgetui.cli import main
from edgetui.cli.commands import discover as discover_command
from edgetui.cli.main import build_parser

FACT_KEYS = {
    "arch",
    "kernel",
    "os_id",
    "os_version",
    "board",
    "cpu_model",
    "cpu_cores",
    "cpu_flags",
    "mem_total_mb",
    "mem_available_mb",
    "disk_free_mb",
    "python",
    "onnxruntime",
    "accelerators",
    "container_runtime",
}


async def run_discover(db, *argv):
    """Run `edgetui discover` on the test's event loop, where the sample fleet lives."""
    args = build_parser().parse_args(["--db", str(db), "discover", *argv])
    return await discover_command(db, args)


def test_import_then_list_json(tmp_path, capsys, sample_fleet):
    db = tmp_path / "fleet.db"
    inventory = sample_fleet.state_dir / "inventory.toml"

    assert main(["--db", str(db), "fleet", "import", str(inventory), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert len(summary["added"]) == 3
    assert summary["host_keys_recorded"] == 3

    assert main(["--db", str(db), "fleet", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(row["name"] for row in rows) == sorted(summary["added"])
    assert all(row["status"] == "unknown" for row in rows)


async def test_discover_json_reports_every_fact_key(tmp_path, capsys, sample_fleet):
    db = tmp_path / "fleet.db"
    main(["--db", str(db), "fleet", "import", str(sample_fleet.state_dir / "inventory.toml")])
    capsys.readouterr()

    status = await run_discover(db, "--json")

    results = json.loads(capsys.readouterr().out)
    assert status == 0
    assert len(results) == 3
    for result in results:
        assert result["ok"], result["error"]
        assert result["error"] is None
        assert FACT_KEYS <= set(result["facts"])
        assert result["facts"]["python"] is not None
        assert result["facts"]["disk_free_mb"] is not None

    by_name = {result["name"]: result["facts"] for result in results}
    nano = by_name["jetson-nano-l4t32"]
    assert nano["arch"] == "aarch64"
    assert nano["kernel"] == "4.9.337-tegra"
    assert {"kind": "gpu", "vendor": "nvidia"}.items() <= nano["accelerators"][0].items()
    coral = by_name["coral-edgetpu"]
    assert [(a["vendor"], a["kind"]) for a in coral["accelerators"]] == [("google", "tpu")]


async def test_discover_stores_facts_and_events(tmp_path, capsys, sample_fleet):
    db = tmp_path / "fleet.db"
    main(["--db", str(db), "fleet", "import", str(sample_fleet.state_dir / "inventory.toml")])

    assert await run_discover(db) == 0
    capsys.readouterr()
    main(["--db", str(db), "fleet", "list", "--json"])
    rows = json.loads(capsys.readouterr().out)

    assert all(row["status"] == "online" for row in rows)
    assert {row["name"]: row["arch"] for row in rows}["jetson-nano-l4t32"] == "aarch64"

    from edgetui.store import FleetStore

    with FleetStore(db) as store:
        events = store.events()
    assert sum(1 for event in events if event.action == "discover" and event.ok) == 3


async def test_unknown_host_key_rejected_without_flag(tmp_path, capsys, sample_fleet):
    db = tmp_path / "fleet.db"
    inventory = _inventory_without_host_keys(sample_fleet, tmp_path)
    main(["--db", str(db), "fleet", "import", str(inventory)])
    capsys.readouterr()

    status = await run_discover(db, "--json")

    results = json.loads(capsys.readouterr().out)
    assert status == 1
    assert not any(result["ok"] for result in results)
    assert all("--accept-new-host-keys" in result["error"] for result in results)


async def test_unknown_host_key_accepted_with_flag(tmp_path, capsys, sample_fleet):
    db = tmp_path / "fleet.db"
    inventory = _inventory_without_host_keys(sample_fleet, tmp_path)
    main(["--db", str(db), "fleet", "import", str(inventory)])

    assert await run_discover(db, "--accept-new-host-keys") == 0
    capsys.readouterr()

    # The keys were recorded, so a second run needs no flag.
    assert await run_discover(db, "--json") == 0


async def test_unreachable_device_exits_one(tmp_path, capsys, sample_fleet):
    db = tmp_path / "fleet.db"
    main(["--db", str(db), "fleet", "import", str(sample_fleet.state_dir / "inventory.toml")])
    dead = tmp_path / "dead.toml"
    dead.write_text(
        '[[device]]\nname = "gone"\nhost = "127.0.0.1"\nport = 1\nuser = "edge"\n'
    )
    main(["--db", str(db), "fleet", "import", str(dead)])
    capsys.readouterr()

    status = await run_discover(db, "--json", "--connect-timeout", "5")

    results = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert status == 1
    assert results["gone"]["ok"] is False
    assert "gone" in results["gone"]["error"]
    assert sum(1 for row in results.values() if row["ok"]) == 3


async def test_discover_unknown_name_is_input_error(tmp_path, capsys, sample_fleet):
    db = tmp_path / "fleet.db"
    main(["--db", str(db), "fleet", "import", str(sample_fleet.state_dir / "inventory.toml")])
    capsys.readouterr()
    name = sample_fleet.devices[0].name

    # main() runs its own event loop, so it goes to a thread beside the fleet's.
    status = await asyncio.to_thread(main, ["--db", str(db), "discover", name + "x"])

    assert status == 2
    err = capsys.readouterr().err
    assert name + "x" in err
    assert name in err.replace(name + "x", "")


def test_database_from_future_is_rejected(tmp_path, capsys):
    db = tmp_path / "future.db"
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA user_version = 9999")
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    connection.close()
    before = db.read_bytes()

    assert main(["--db", str(db), "fleet", "list"]) == 2

    err = capsys.readouterr().err
    assert str(db) in err
    assert "9999" in err
    assert db.read_bytes() == before


def test_broken_inventory_names_file_and_line(tmp_path, capsys):
    bad = tmp_path / "fleet.toml"
    bad.write_text('[[device]]\nname = "a"\nhost = "127.0.0.1"\nport = "twenty-two"\n')

    assert main(["--db", str(tmp_path / "f.db"), "fleet", "import", str(bad)]) == 2

    err = capsys.readouterr().err
    assert str(bad) in err
    assert "port" in err


@pytest.mark.parametrize("value", ["0", "-3"])
def test_max_connections_must_be_positive(tmp_path, capsys, value):
    assert main(["--db", str(tmp_path / "f.db"), "discover", "--max-connections", value]) == 2
    assert value in capsys.readouterr().err


def _inventory_without_host_keys(sample_fleet, tmp_path):
    """Copy the fleet's inventory without its host_key lines."""
    source = (sample_fleet.state_dir / "inventory.toml").read_text()
    lines = [line for line in source.splitlines() if not line.startswith("host_key")]
    target = tmp_path / "no-keys.toml"
    target.write_text("\n".join(lines) + "\n")
    return target


async def test_imported_ssh_config_is_used_to_connect(tmp_path, capsys, sample_fleet):
    # The file is not ~/.ssh/config: the alias resolves only through the imported file.
    device = sample_fleet.devices[0]
    config = tmp_path / "fleet_ssh_config"
    config.write_text(
        "Host lab-board\n"
        "    HostName 127.0.0.1\n"
        f"    Port {device.port}\n"
        "    User edge\n"
        f"    IdentityFile {device.client_key_path}\n"
    )
    db = tmp_path / "fleet.db"
    assert main(["--db", str(db), "fleet", "import", str(config)]) == 0
    capsys.readouterr()

    status = await run_discover(db, "--json", "--accept-new-host-keys")

    results = json.loads(capsys.readouterr().out)
    assert results[0]["name"] == "lab-board"
    assert results[0]["ok"], results[0]["error"]
    assert status == 0


@pytest.mark.parametrize("command", [["fleet", "list"], ["discover"]])
def test_missing_database_is_not_created(tmp_path, capsys, command):
    db = tmp_path / "typo" / "fleet.db"

    assert main(["--db", str(db), *command]) == 2

    assert str(db) in capsys.readouterr().err
    assert not db.exists()
    assert not db.parent.exists()


def test_sample_fleet_help_reaches_its_parser(capsys):
    assert main(["sample-fleet", "--help"]) == 0

    out = capsys.readouterr().out
    assert "up" in out
    assert "list" in out
