"""The device shim must run on Python 3.6 (Jetson Nano's L4T ships 3.6)."""

import subprocess
import sys
from pathlib import Path

import pytest

import device_shim

pytest.importorskip("vermin", reason="vermin is not installed (pip install vermin)")

# vermin has no `python -m vermin` entry; its console script calls vermin.main.main().
VERMIN_MAIN = "import sys; from vermin.main import main; sys.argv[0] = 'vermin'; sys.exit(main())"


def test_device_shim_needs_at_most_python_3_6():
    source = Path(device_shim.__file__).parent
    completed = subprocess.run(
        [sys.executable, "-c", VERMIN_MAIN, "-t=3.6-", "--no-tips", "--violations", "--eval-annotations", str(source)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "Minimum required versions: 3.6" in completed.stdout
