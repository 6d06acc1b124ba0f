"""The edgetui inventory TOML format."""

import base64
from pathlib import Path

import pytest

from edgetui.errors import InputError
from edgetui.inventory import HostKeyEntry, InventoryError, load_inventory

HOST_KEY = "ssh-ed25519 " + base64.b64encode(b"\x00\x00\x00\x0bssh-ed25519" + b"\x00" * 36).decode()


def write(tmp_path: Path, text: str, name: str = "fleet.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_toml_reads_all_fields(tmp_path):
    path = write(tmp_path, f"""
[[device]]
name = "rpi4-aarch64"
host = "127.0.0.1"
port = 40123
user = "edge"
key_file = "keys/rpi4"
host_key = "{HOST_KEY}"
proxy_jump = "gateway"
[device.tags]
profile = "rpi4-aarch64"
canary = true

[[device]]
name = "jetson"
host = "10.0.0.7"
""")
    inventory = load_inventory(path)

    assert inventory.source_format == "toml"
    rpi, jetson = inventory.devices
    assert rpi.name == "rpi4-aarch64"
    assert rpi.host == "127.0.0.1"
    assert rpi.port == 40123
    assert rpi.user == "edge"
    assert rpi.key_file == str(tmp_path.resolve() / "keys" / "rpi4")
    assert rpi.proxy_jump == "gateway"
    assert rpi.tags == {"profile": "rpi4-aarch64", "canary": "true"}
    assert jetson.port is None
    assert jetson.tags == {}
    assert inventory.host_keys == [HostKeyEntry("127.0.0.1", 40123, HOST_KEY)]


def test_toml_host_key_default_port(tmp_path):
    path = write(tmp_path, f'[[device]]\nname = "a"\nhost = "10.0.0.1"\nhost_key = "{HOST_KEY}"\n')
    assert load_inventory(path).host_keys == [HostKeyEntry("10.0.0.1", 22, HOST_KEY)]


def test_toml_absolute_and_home_key_file(tmp_path):
    path = write(tmp_path, '[[device]]\nname = "a"\nhost = "h"\nkey_file = "/abs/key"\n'
                           '[[device]]\nname = "b"\nhost = "h"\nkey_file = "~/.ssh/id_ed25519"\n')
    first, second = load_inventory(path).devices
    assert first.key_file == "/abs/key"
    assert second.key_file == str(Path.home() / ".ssh" / "id_ed25519")


def assert_error(path: Path, line: int | None, *fragments: str) -> None:
    """Load ``path`` and check that the error names the file, the line and each fragment."""
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    message = str(raised.value)
    assert isinstance(raised.value, InputError)
    assert str(path) in message
    if line is not None:
        assert f"line {line}" in message
        assert raised.value.line == line or raised.value.line is None
    for fragment in fragments:
        assert fragment in message


def test_toml_syntax_error_names_line(tmp_path):
    path = write(tmp_path, '[[device]]\nname = "a"\nhost = \n')
    assert_error(path, 3, "invalid TOML")


def test_toml_missing_name(tmp_path):
    path = write(tmp_path, '[[device]]\nname = "a"\nhost = "h"\n\n[[device]]\nhost = "10.0.0.2"\n')
    assert_error(path, 5, "missing device name")


def test_toml_missing_host(tmp_path):
    path = write(tmp_path, '[[device]]\nname = "rpi4"\nport = 22\n')
    assert_error(path, 1, "'rpi4'", "missing host")


@pytest.mark.parametrize("value", ["0", "65536", '"22"', "22.5", "true", "-1"])
def test_toml_invalid_port(tmp_path, value):
    path = write(tmp_path, f'[[device]]\nname = "rpi4"\nhost = "h"\nport = {value}\n')
    assert_error(path, 4, "port must be an integer from 1 to 65535")


def test_toml_duplicate_names(tmp_path):
    path = write(tmp_path, '[[device]]\nname = "rpi4"\nhost = "a"\n\n[[device]]\nname = "rpi4"\nhost = "b"\n')
    assert_error(path, 5, "duplicate device name 'rpi4'", "first defined at line 1")


def test_toml_unknown_key_lists_known(tmp_path):
    path = write(tmp_path, '[[device]]\nname = "rpi4"\nhostname = "10.0.0.5"\n')
    assert_error(path, 3, "unknown key 'hostname'", "name, host, port, user, key_file, host_key, proxy_jump, tags")


def test_toml_unknown_top_level_key(tmp_path):
    path = write(tmp_path, 'devices = []\n')
    assert_error(path, None, "unknown top-level key 'devices'")


@pytest.mark.parametrize("name", ["rpi4;reboot", "a b", "$(id)", "-rf", "rpi/4", "é"])
def test_toml_unsafe_name_rejected(tmp_path, name):
    path = write(tmp_path, f'[[device]]\nname = "{name}"\nhost = "h"\n')
    assert_error(path, 2, f"invalid device name {name!r}", "letters, digits")


def test_toml_invalid_host_key(tmp_path):
    path = write(tmp_path, '[[device]]\nname = "a"\nhost = "h"\nhost_key = "SHA256:abc"\n')
    assert_error(path, 4, "host_key must be an OpenSSH public key line")


def test_toml_nested_tag_rejected(tmp_path):
    path = write(tmp_path, '[[device]]\nname = "a"\nhost = "h"\n[device.tags]\nsite = ["a", "b"]\n')
    assert_error(path, 5, "tag 'site' must be a string")


def test_toml_without_devices(tmp_path):
    path = write(tmp_path, "# nothing yet\n")
    assert_error(path, None, "no devices found")
