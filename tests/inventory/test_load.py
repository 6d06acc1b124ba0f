"""load_inventory: format detection, file errors and round trips."""

from pathlib import Path

import pytest

from edgetui.domain import Device
from edgetui.inventory import InventoryError, load_inventory


@pytest.mark.parametrize("name, text, expected", [
    ("fleet.toml", '[[device]]\nname = "a"\nhost = "h"\n', "toml"),
    ("inventory", '[[device]]\nname = "a"\nhost = "h"\n', "toml"),
    ("config", "Host a\n  HostName h\n", "ssh_config"),
    ("ssh_config", "host=a\n", "ssh_config"),
    ("hosts", "[pi]\na ansible_host=h\n", "ansible-ini"),
    ("hosts", "a ansible_host=h\n", "ansible-ini"),
    ("hosts.ini", "a\n", "ansible-ini"),
    ("inventory.yaml", "all:\n  hosts:\n    a:\n", "ansible-yaml"),
    ("inventory.yml", "all:\n  hosts:\n    a:\n", "ansible-yaml"),
    ("inventory", "all:\n  hosts:\n    a:\n", "ansible-yaml"),
])
def test_format_detection(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    inventory = load_inventory(path)
    assert inventory.source_format == expected
    assert [device.name for device in inventory.devices] == ["a"]


def load_error(path: Path) -> InventoryError:
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    assert str(path) in str(raised.value)
    return raised.value


def test_missing_file(tmp_path):
    assert "file not found" in str(load_error(tmp_path / "nope.toml"))


def test_folder_instead_of_file(tmp_path):
    assert "not a file" in str(load_error(tmp_path))


@pytest.mark.parametrize("name", ["fleet.toml", "hosts", "config", "inventory.yml"])
def test_empty_file(tmp_path, name):
    path = tmp_path / name
    path.write_text("\n  \n")
    assert "no devices found" in str(load_error(path))


def test_binary_file(tmp_path):
    path = tmp_path / "inventory"
    path.write_bytes(b"\xff\xfe\x00garbage\x80")
    assert "not a text file" in str(load_error(path))


def test_unknown_format(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("just some words\n")
    assert "unknown inventory format" in str(load_error(path))


def to_toml(devices: list[Device]) -> str:
    lines = []
    for device in devices:
        lines += ["[[device]]", f'name = "{device.name}"', f'host = "{device.host}"']
        if device.port:
            lines.append(f"port = {device.port}")
        if device.user:
            lines.append(f'user = "{device.user}"')
        if device.key_file:
            lines.append(f'key_file = "{device.key_file}"')
        if device.proxy_jump:
            lines.append(f'proxy_jump = "{device.proxy_jump}"')
        if device.tags:
            lines.append("[device.tags]")
            lines += [f'{key} = "{value}"' for key, value in device.tags.items()]
    return "\n".join(lines) + "\n"


def to_ini(devices: list[Device]) -> str:
    lines = ["[fleet]"]
    for device in devices:
        words = [device.name, f"ansible_host={device.host}"]
        if device.port:
            words.append(f"ansible_port={device.port}")
        if device.user:
            words.append(f"ansible_user={device.user}")
        if device.key_file:
            words.append(f"ansible_ssh_private_key_file={device.key_file}")
        if device.proxy_jump:
            words.append(f"ansible_ssh_common_args='-o ProxyJump={device.proxy_jump}'")
        words += [f"{key}={value}" for key, value in device.tags.items()]
        lines.append(" ".join(words))
    return "\n".join(lines) + "\n"


def to_yaml(devices: list[Device]) -> str:
    lines = ["all:", "  children:", "    fleet:", "      hosts:"]
    for device in devices:
        lines.append(f"        {device.name}:")
        lines.append(f"          ansible_host: {device.host}")
        if device.port:
            lines.append(f"          ansible_port: {device.port}")
        if device.user:
            lines.append(f"          ansible_user: {device.user}")
        if device.key_file:
            lines.append(f"          ansible_ssh_private_key_file: {device.key_file}")
        if device.proxy_jump:
            lines.append(f"          ansible_ssh_common_args: -J {device.proxy_jump}")
        lines += [f"          {key}: '{value}'" for key, value in device.tags.items()]
    return "\n".join(lines) + "\n"


FLEET = [
    Device(name="rpi4-aarch64", host="127.0.0.1", port=40123, user="edge",
           key_file="/keys/rpi4", tags={"profile": "rpi4-aarch64"}),
    Device(name="jetson_nano.2", host="10.0.0.7", proxy_jump="gateway"),
    Device(name="coral-dev", host="coral.local", port=22, user="mendel", tags={"site": "lab"}),
]


@pytest.mark.parametrize("writer, file_name, group_tag", [
    (to_toml, "fleet.toml", None),
    (to_ini, "hosts", "fleet"),
    (to_yaml, "fleet.yaml", "fleet"),
])
def test_round_trip(tmp_path, writer, file_name, group_tag):
    path = tmp_path / file_name
    path.write_text(writer(FLEET))

    loaded = load_inventory(path).devices

    assert [device.name for device in loaded] == [device.name for device in FLEET]
    for original, device in zip(FLEET, loaded):
        expected_tags = dict(original.tags)
        if group_tag:
            expected_tags["group"] = group_tag
        assert device.host == original.host
        assert device.port == original.port
        assert device.user == original.user
        assert device.key_file == original.key_file
        assert device.proxy_jump == original.proxy_jump
        assert device.tags == expected_tags


def test_round_trip_ssh_config(tmp_path):
    lines = []
    for device in FLEET:
        lines += [f"Host {device.name}", f"  HostName {device.host}"]
        if device.port:
            lines.append(f"  Port {device.port}")
        if device.user:
            lines.append(f"  User {device.user}")
    path = tmp_path / "config"
    path.write_text("\n".join(lines) + "\n")

    loaded = load_inventory(path).devices

    for original, device in zip(FLEET, loaded, strict=True):
        assert device.name == original.name
        assert device.host == original.name
        assert device.tags["ssh_hostname"] == original.host
        assert device.tags.get("ssh_port") == (str(original.port) if original.port else None)
        assert device.tags.get("ssh_user") == original.user
