"""The shim caches its onnxruntime probe on the device until onnxruntime changes."""

import json
import subprocess
import sys

from edgetui.shim_bundle import build_shim_bundle


def device_layout(tmp_path):
    """Place the shim where the console puts it on a device; return its path."""
    bundle = build_shim_bundle()
    shim = tmp_path / ".edgetui" / "shim" / bundle.sha256 / "shim.pyz"
    shim.parent.mkdir(parents=True)
    shim.write_bytes(bundle.data)
    return shim


def run_inventory(shim, root):
    """Run the shim's inventory with the test's interpreter, which has onnxruntime."""
    env = {"PATH": "/nonexistent", "EDGETUI_SHIM_ROOT": str(root)}
    output = subprocess.run(
        [sys.executable, str(shim), "inventory"], env=env, capture_output=True, check=True
    ).stdout
    return json.loads(output)


def test_probe_result_is_cached_and_reused(tmp_path):
    import onnxruntime

    shim = device_layout(tmp_path)
    cache = tmp_path / ".edgetui" / "cache" / "onnxruntime.json"

    first = run_inventory(shim, tmp_path)
    assert first["onnxruntime"]["version"] == onnxruntime.__version__
    assert cache.exists()

    # A cached result is trusted while the fingerprint matches, so an edited
    # version shows that the second run read the cache instead of importing.
    entry = json.loads(cache.read_text())
    entry["onnxruntime"]["version"] = "0.0.0-cached"
    cache.write_text(json.dumps(entry))
    assert run_inventory(shim, tmp_path)["onnxruntime"]["version"] == "0.0.0-cached"


def test_changed_install_invalidates_cache(tmp_path):
    import onnxruntime

    shim = device_layout(tmp_path)
    cache = tmp_path / ".edgetui" / "cache" / "onnxruntime.json"
    run_inventory(shim, tmp_path)

    entry = json.loads(cache.read_text())
    entry["fingerprint"] = "an onnxruntime installed elsewhere"
    entry["onnxruntime"]["version"] = "0.0.0-stale"
    cache.write_text(json.dumps(entry))

    assert run_inventory(shim, tmp_path)["onnxruntime"]["version"] == onnxruntime.__version__


def test_shim_outside_device_layout_writes_no_cache(tmp_path):
    shim = tmp_path / "shim.pyz"
    shim.write_bytes(build_shim_bundle().data)

    run_inventory(shim, tmp_path)

    assert not list(tmp_path.rglob("onnxruntime.json"))
