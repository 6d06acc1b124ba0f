"""Ansible YAML inventories."""

from pathlib import Path

import pytest

from edgetui.inventory import InventoryError, load_inventory


def write(tmp_path: Path, text: str, name: str = "inventory.yml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


SAMPLE = """\
all:
  vars:
    owner: vision-team
    canary: false
  hosts:
    bastion:
      ansible_host: 203.0.113.10
  children:
    plant_a:
      vars:
        ansible_user: ops
        ansible_port: 2222
      children:
        cameras:
          vars:
            ansible_port: 22
          hosts:
            cam[01:02]:
            cam03:
              ansible_user: camera
        gpu:
          hosts:
            jetson:
              ansible_host: 10.0.1.1
              ansible_ssh_private_key_file: /keys/jetson
              ansible_ssh_common_args: -J bastion
              cuda: 10.2
    lab:
      children:
        cameras:
"""


@pytest.fixture
def devices(tmp_path):
    inventory = load_inventory(write(tmp_path, SAMPLE))
    assert inventory.source_format == "ansible-yaml"
    return {device.name: device for device in inventory.devices}


def test_yaml_hosts_and_patterns(devices):
    assert list(devices) == ["bastion", "cam01", "cam02", "cam03", "jetson"]


def test_yaml_connection_variables(devices):
    jetson = devices["jetson"]
    assert jetson.host == "10.0.1.1"
    assert jetson.port == 2222
    assert jetson.user == "ops"
    assert jetson.key_file == "/keys/jetson"
    assert jetson.proxy_jump == "bastion"
    assert jetson.tags["cuda"] == "10.2"


def test_yaml_precedence(devices):
    assert devices["cam01"].port == 22
    assert devices["cam01"].user == "ops"
    assert devices["cam03"].user == "camera"
    assert devices["bastion"].port is None
    assert devices["bastion"].tags == {"owner": "vision-team", "canary": "false"}


def test_yaml_groups_tag_follows_children(devices):
    assert devices["cam01"].tags["group"] == "cameras,lab,plant_a"
    assert devices["jetson"].tags["group"] == "gpu,plant_a"


def test_yaml_top_level_group_without_all(tmp_path):
    path = write(tmp_path, "pis:\n  hosts:\n    rpi4:\n      ansible_port: '2200'\n")
    (device,) = load_inventory(path).devices
    assert device.port == 2200
    assert device.tags == {"group": "pis"}


def yaml_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    message = str(raised.value)
    assert str(path) in message
    return message


def test_yaml_syntax_error_names_line(tmp_path):
    message = yaml_error(tmp_path, "all:\n  hosts:\n    rpi4: {ansible_port: 22\n    rpi5:\n")
    assert "invalid YAML" in message
    assert "line 4" in message


@pytest.mark.parametrize("port", ["ssh", "0", "65536", "true"])
def test_yaml_invalid_port(tmp_path, port):
    message = yaml_error(tmp_path, f"all:\n  hosts:\n    rpi4:\n    rpi5:\n      ansible_port: {port}\n")
    assert "line 4" in message
    assert "'rpi5'" in message
    assert "port must be an integer from 1 to 65535" in message


def test_yaml_unsafe_name(tmp_path):
    message = yaml_error(tmp_path, "all:\n  hosts:\n    'rpi4 && reboot':\n")
    assert "line 3" in message
    assert "invalid device name" in message


def test_yaml_unknown_group_key(tmp_path):
    message = yaml_error(tmp_path, "all:\n  host:\n    rpi4:\n")
    assert "line 2" in message
    assert "unknown key 'host'" in message


def test_yaml_hosts_not_mapping(tmp_path):
    message = yaml_error(tmp_path, "all:\n  hosts:\n    - rpi4\n")
    assert "line 3" in message
    assert "must be a mapping" in message


def test_yaml_missing_host(tmp_path):
    message = yaml_error(tmp_path, "all:\n  hosts:\n    rpi4:\n      ansible_host: ''\n")
    assert "line 3" in message
    assert "missing host" in message


def test_yaml_no_hosts(tmp_path):
    message = yaml_error(tmp_path, "all:\n  children:\n    pis:\n")
    assert "no devices found" in message


def test_yaml_recursive_alias(tmp_path):
    message = yaml_error(tmp_path, "all: &top\n  children:\n    loop: *top\n")
    assert "contains itself" in message
