"""ssh_config files as inventories."""

import logging
from pathlib import Path

import pytest

from edgetui.inventory import InventoryError, load_inventory


def write(tmp_path: Path, text: str, name: str = "config") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


SAMPLE = """\
# Fleet at plant A
Include ~/.ssh/config.d/*

Host *
    ServerAliveInterval 30

Host gateway
    HostName gw.plant-a.example
    User admin

Host rpi4 rpi4-spare
    hostname=10.0.0.5
    PORT = 2222
    User "edge"
    IdentityFile ~/.ssh/fleet_ed25519
    ProxyJump gateway

Host cam-?? !cam-00
    User camera

Match host jetson exec "true"
    User ignored

Host jetson
    HostName 10.0.0.7
"""


def test_ssh_config_devices(tmp_path):
    path = write(tmp_path, SAMPLE)
    inventory = load_inventory(path)

    assert inventory.source_format == "ssh_config"
    by_name = {device.name: device for device in inventory.devices}
    assert list(by_name) == ["gateway", "rpi4", "rpi4-spare", "jetson"]
    rpi = by_name["rpi4"]
    assert rpi.host == "rpi4"
    assert rpi.port is None
    assert rpi.user is None
    assert rpi.tags == {
        "ssh_hostname": "10.0.0.5",
        "ssh_port": "2222",
        "ssh_user": "edge",
        "ssh_identity_file": "~/.ssh/fleet_ed25519",
        "ssh_proxy_jump": "gateway",
        "ssh_config": str(path.resolve()),
    }
    assert by_name["rpi4-spare"].tags == rpi.tags
    assert by_name["jetson"].tags["ssh_hostname"] == "10.0.0.7"
    assert "ssh_user" not in by_name["jetson"].tags


def test_ssh_config_warns_about_include(tmp_path, caplog):
    path = write(tmp_path, SAMPLE)
    with caplog.at_level(logging.WARNING, logger="edgetui.inventory"):
        inventory = load_inventory(path)
    assert inventory.warnings == [
        "line 2: Include ~/.ssh/config.d/* was not followed; import that file separately"
    ]
    assert "Include" in caplog.text


def test_ssh_config_first_value_wins(tmp_path):
    path = write(tmp_path, "Host rpi4\n  User first\nHost rpi4 other\n  User second\n  Port 22\n")
    rpi, other = load_inventory(path).devices
    assert rpi.tags["ssh_user"] == "first"
    assert rpi.tags["ssh_port"] == "22"
    assert other.tags["ssh_user"] == "second"


def test_ssh_config_only_wildcards(tmp_path):
    path = write(tmp_path, "Host *\n  User edge\nHost 10.0.*\n  Port 22\n")
    with pytest.raises(InventoryError, match="no devices found") as raised:
        load_inventory(path)
    assert str(path) in str(raised.value)


@pytest.mark.parametrize("port", ["ssh", "0", "70000"])
def test_ssh_config_invalid_port(tmp_path, port):
    path = write(tmp_path, f"Host rpi4\n  HostName 10.0.0.5\n  Port {port}\n")
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    message = str(raised.value)
    assert str(path) in message
    assert "line 3" in message
    assert "port must be an integer from 1 to 65535" in message


def test_ssh_config_unsafe_alias(tmp_path):
    path = write(tmp_path, "Host good\n  User a\n\nHost bad;rm\n  User b\n")
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    assert "line 4" in str(raised.value)
    assert "invalid device name 'bad;rm'" in str(raised.value)


def test_ssh_config_unparseable_line(tmp_path):
    path = write(tmp_path, "Host rpi4\n  = 10.0.0.5\n")
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    assert "line 2" in str(raised.value)
    assert "cannot parse" in str(raised.value)
