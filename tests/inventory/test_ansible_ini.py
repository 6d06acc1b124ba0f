"""Ansible INI inventories."""

import logging
from pathlib import Path

import pytest

from edgetui.inventory import InventoryError, load_inventory


def write(tmp_path: Path, text: str, name: str = "hosts") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


SAMPLE = """\
# Plant A
bastion ansible_host=203.0.113.10 ansible_user=admin

[cameras]
cam[01:03] ansible_user=camera
edge-gw.local:2200

[gpu]
jetson-[a:b] ansible_host=10.0.1.1 ansible_ssh_private_key_file=keys/jetson ansible_ssh_common_args='-o ProxyJump=bastion -o StrictHostKeyChecking=yes'
cam02 model=yolov8n

[plant_a:children]
cameras
gpu

[plant_a:vars]
site=plant-a
ansible_port=2222
ansible_user=ops

[cameras:vars]
ansible_port=22

[all:vars]
owner=vision-team
site=unknown
"""


@pytest.fixture
def devices(tmp_path):
    inventory = load_inventory(write(tmp_path, SAMPLE))
    assert inventory.source_format == "ansible-ini"
    return {device.name: device for device in inventory.devices}


def test_ini_expands_patterns(devices):
    assert sorted(devices) == ["bastion", "cam01", "cam02", "cam03", "edge-gw.local", "jetson-a", "jetson-b"]


def test_ini_connection_variables(devices, tmp_path):
    jetson = devices["jetson-a"]
    assert jetson.host == "10.0.1.1"
    assert jetson.port == 2222
    assert jetson.user == "ops"
    assert jetson.key_file == str(tmp_path.resolve() / "keys" / "jetson")
    assert jetson.proxy_jump == "bastion"


def test_ini_ungrouped_host(devices):
    bastion = devices["bastion"]
    assert bastion.host == "203.0.113.10"
    assert bastion.user == "admin"
    assert bastion.port is None
    assert bastion.tags == {"owner": "vision-team", "site": "unknown"}


def test_ini_host_port_form(devices):
    gateway = devices["edge-gw.local"]
    assert gateway.host == "edge-gw.local"
    assert gateway.port == 2200


def test_ini_child_group_overrides_parent(devices):
    camera = devices["cam01"]
    assert camera.port == 22
    assert camera.user == "camera"
    assert camera.tags["site"] == "plant-a"
    assert camera.tags["owner"] == "vision-team"


def test_ini_groups_become_tag(devices):
    assert devices["cam01"].tags["group"] == "cameras,plant_a"
    assert devices["cam02"].tags["group"] == "cameras,gpu,plant_a"
    assert devices["cam02"].tags["model"] == "yolov8n"
    assert devices["jetson-b"].tags["group"] == "gpu,plant_a"
    assert "group" not in devices["bastion"].tags


def test_ini_passwords_not_imported(tmp_path, caplog):
    path = write(tmp_path, "[pi]\nrpi4 ansible_password=hunter2 ansible_become_pass=hunter2\n")
    with caplog.at_level(logging.WARNING, logger="edgetui.inventory"):
        inventory = load_inventory(path)
    device = inventory.devices[0]
    assert "ansible_password" not in device.tags
    assert "ansible_become_pass" not in device.tags
    assert "hunter2" not in caplog.text
    assert len(inventory.warnings) == 2
    assert "line 2" in inventory.warnings[0]


def test_ini_proxy_jump_dash_j(tmp_path):
    path = write(tmp_path, "[pi]\nrpi4 ansible_ssh_common_args='-J admin@bastion:2222'\n")
    assert load_inventory(path).devices[0].proxy_jump == "admin@bastion:2222"


def ini_error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(InventoryError) as raised:
        load_inventory(path)
    message = str(raised.value)
    assert str(path) in message
    return message


@pytest.mark.parametrize("port", ["ssh", "0", "65536"])
def test_ini_invalid_port(tmp_path, port):
    message = ini_error(tmp_path, f"[pi]\nrpi4\nrpi5 ansible_port={port}\n")
    assert "line 3" in message
    assert "port must be an integer from 1 to 65535" in message


def test_ini_invalid_group_port_names_host_line(tmp_path):
    message = ini_error(tmp_path, "[pi]\nrpi4\n\n[pi:vars]\nansible_port=x\n")
    assert "line 2" in message
    assert "'rpi4'" in message


def test_ini_unsafe_name(tmp_path):
    message = ini_error(tmp_path, "[pi]\nrpi4\nrpi`reboot`\n")
    assert "line 3" in message
    assert "invalid device name 'rpi`reboot`'" in message


def test_ini_empty_host_variable(tmp_path):
    message = ini_error(tmp_path, "[pi]\nrpi4 ansible_host=\n")
    assert "line 2" in message
    assert "missing host" in message


def test_ini_not_key_value(tmp_path):
    message = ini_error(tmp_path, "[pi]\nrpi4 port 22\n")
    assert "line 2" in message
    assert "expected key=value" in message


def test_ini_unknown_section_type(tmp_path):
    message = ini_error(tmp_path, "[pi:groups]\nrpi4\n")
    assert "line 1" in message
    assert "unknown section type 'groups'" in message


def test_ini_unbalanced_quote(tmp_path):
    message = ini_error(tmp_path, "[pi]\nrpi4 note='open\n")
    assert "line 2" in message
    assert "cannot parse host line" in message


def test_ini_bad_range(tmp_path):
    message = ini_error(tmp_path, "[pi]\nrpi[05:01]\n")
    assert "line 2" in message
    assert "is empty" in message


def test_ini_children_cycle(tmp_path):
    message = ini_error(tmp_path, "[a]\nrpi4\n[a:children]\nb\n[b:children]\na\n")
    assert "contains itself" in message


def test_ini_groups_without_hosts(tmp_path):
    message = ini_error(tmp_path, "[pi]\n[pi:vars]\nsite=a\n")
    assert "no devices found" in message
