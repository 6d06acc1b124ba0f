"""The zipapp from build_shim_bundle(), run end to end with two interpreters."""

import hashlib
import io
import json
import os
import subprocess
import sys
import zipfile

import pytest

from edgetui.domain.hardware import HardwareFacts
from edgetui.shim_bundle import ShimBundle, build_shim_bundle, pack_zipapp, shim_entries, shim_source_dir
from fixtures_devices import FIXTURES_DIR, build_device, main_unit_captures, run_shim

SYSTEM_PYTHON = "/usr/bin/python3"
INTERPRETERS = [
    pytest.param(sys.executable, id="venv-python"),
    pytest.param(
        SYSTEM_PYTHON,
        id="system-python",
        marks=pytest.mark.skipif(not os.access(SYSTEM_PYTHON, os.X_OK), reason=SYSTEM_PYTHON + " not installed"),
    ),
]


@pytest.fixture
def shim_file(tmp_path):
    path = tmp_path / "shim" / "shim.pyz"
    path.parent.mkdir()
    path.write_bytes(build_shim_bundle().data)
    return path


def test_bundle_digest_matches_data():
    bundle = build_shim_bundle()
    assert isinstance(bundle, ShimBundle)
    assert bundle.sha256 == hashlib.sha256(bundle.data).hexdigest()
    assert bundle.inventory_sh.startswith(b"#!/bin/sh\n")


def test_bundle_is_reproducible():
    first = pack_zipapp(shim_entries(shim_source_dir()))
    second = pack_zipapp(shim_entries(shim_source_dir()))
    assert hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
    assert build_shim_bundle() is build_shim_bundle()


def test_bundle_entries_fixed_metadata():
    data = build_shim_bundle().data
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert "__main__.py" in names
    assert "device_shim/facts/cpu.py" in names
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {info.external_attr >> 16 for info in infos} == {0o100644}


@pytest.mark.skipif(not FIXTURES_DIR.is_dir(), reason="device fixtures not found")
@pytest.mark.parametrize("python", INTERPRETERS)
def test_zipapp_inventory_jetson_nano(tmp_path, shim_file, python):
    device = build_device(tmp_path, main_unit_captures("jetson-nano-l4t32"))
    completed = run_shim(device, python=python, shim=shim_file)
    assert completed.returncode == 0, completed.stderr
    reply = json.loads(completed.stdout)
    facts = HardwareFacts.model_validate(reply)
    assert set(reply) == set(HardwareFacts.model_fields) | {"shim_version"}
    assert facts.arch == "aarch64"
    assert facts.cpu_model == "Cortex-A57"
    assert facts.cpu_cores == 4
    assert facts.accelerators[0].vendor == "nvidia"
    assert facts.limited is False
    assert facts.disk_free_mb is not None


@pytest.mark.parametrize("python", INTERPRETERS)
def test_zipapp_unknown_command_exits_2(tmp_path, shim_file, python):
    device = build_device(tmp_path, [])
    argv = [python, str(shim_file), "deploy-everything"]
    completed = subprocess.run(argv, capture_output=True, text=True, env=device.env(), timeout=60)
    assert completed.returncode == 2
    assert json.loads(completed.stdout)["error"] == "unknown command: deploy-everything"
