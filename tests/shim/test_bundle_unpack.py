"""The shim unpacks itself beside shim.pyz so Python can cache its bytecode."""

import json
import os
import stat
import subprocess
import sys

import pytest

from edgetui.shim_bundle import build_shim_bundle

PYTHONS = [sys.executable, "/usr/bin/python3"]


def place_shim(folder):
    """Write the bundle to ``folder``/shim.pyz and return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    shim = folder / "shim.pyz"
    shim.write_bytes(build_shim_bundle().data)
    return shim


def run_inventory(python, shim, root):
    """Run the shim's inventory and return its reply."""
    env = {"PATH": "/nonexistent", "EDGETUI_SHIM_ROOT": str(root)}
    completed = subprocess.run([python, str(shim), "inventory"], env=env, capture_output=True)
    assert completed.returncode == 0, completed.stderr.decode()
    return json.loads(completed.stdout)


@pytest.mark.parametrize("python", [p for p in PYTHONS if os.path.exists(p)])
def test_first_run_unpacks_and_caches_bytecode(tmp_path, python):
    shim = place_shim(tmp_path / "shim")

    run_inventory(python, shim, tmp_path)

    unpacked = tmp_path / "shim" / "src" / "device_shim"
    assert (unpacked / "__main__.py").is_file()
    assert list(unpacked.glob("__pycache__/*.pyc")), "no bytecode was cached"


def test_unpacked_files_match_bundle(tmp_path):
    shim = place_shim(tmp_path / "shim")
    run_inventory(sys.executable, shim, tmp_path)

    import zipfile

    with zipfile.ZipFile(shim) as bundle:
        for name in bundle.namelist():
            if name.startswith("device_shim/"):
                assert (tmp_path / "shim" / "src" / name).read_bytes() == bundle.read(name)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to read-only folders")
def test_read_only_folder_imports_from_zip(tmp_path):
    shim = place_shim(tmp_path / "shim")
    os.chmod(shim.parent, stat.S_IRUSR | stat.S_IXUSR)
    try:
        reply = run_inventory(sys.executable, shim, tmp_path)
    finally:
        os.chmod(shim.parent, stat.S_IRWXU)

    assert reply["shim_version"]
    assert not (tmp_path / "shim" / "src").exists()


def test_unwritable_target_imports_from_zip(tmp_path):
    # A file where the unpack folder would go makes the rename fail even for root.
    shim = place_shim(tmp_path / "shim")
    (tmp_path / "shim" / "src").write_text("in the way")

    reply = run_inventory(sys.executable, shim, tmp_path)

    assert reply["shim_version"]
    assert (tmp_path / "shim" / "src").read_text() == "in the way"
    assert sorted(path.name for path in (tmp_path / "shim").iterdir()) == ["shim.pyz", "src"]
