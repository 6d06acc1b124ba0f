"""The shim's activate, commit and rollback commands, with real health checks on a real model."""

import fcntl
import os
import subprocess
import sys

from shim_release_helpers import REPO, process_alive, vad_files, wait_until


def activate(device, release, **fields):
    request = {"release": release, "watchdog_s": 120}
    request.update(fields)
    return device.run("activate", request)


def commit(device, release):
    status, reply = device.run("commit", {"release": release})
    assert status == 0, reply
    return reply


def test_activate_arms_watchdog(device, staged):
    release = staged()
    status, reply = activate(device, release)
    assert status == 0, reply
    assert reply["health"]["passed"] is True
    assert reply["health"]["measured"]["runs"] == 5
    assert reply["health"]["measured"]["errors"] == 0
    assert device.link("current") == release
    state = device.watchdog_state()
    assert state["release"] == release
    assert state["phase"] == "armed"
    assert process_alive(state["pid"])
    assert state["token"] in open("/proc/{}/cmdline".format(state["pid"]), "rb").read().decode()


def test_commit_disarms_watchdog(device, staged):
    release = staged()
    activate(device, release)
    pid = device.watchdog_state()["pid"]
    reply = commit(device, release)
    assert reply["changed"] is True
    assert reply["watchdog"]["disarmed"] is True
    assert device.link("known_good") == release
    assert device.watchdog_state() is None
    assert wait_until(lambda: not process_alive(pid), timeout_s=5)
    again = commit(device, release)
    assert again["changed"] is False


def test_commit_requires_current(device, staged):
    first = staged("1.0.0")
    second = staged("2.0.0")
    activate(device, first)
    status, reply = device.run("commit", {"release": second})
    assert status == 1
    assert reply["code"] == "not_current"


def test_activate_unstaged_release(device, signer):
    status, reply = activate(device, "vad-9.0.0-0123456789ab")
    assert status == 1
    assert reply["code"] == "not_staged"
    assert device.link("current") is None


def test_broken_model_rolls_back(device, staged):
    good = staged("1.0.0")
    activate(device, good)
    commit(device, good)
    broken = staged("2.0.0", files=vad_files(b"this is not an onnx model" * 10))
    status, reply = activate(device, broken)
    assert status == 1
    assert reply["code"] == "health_check_failed"
    assert reply["rolled_back"] is True
    assert reply["current"] == good
    assert reply["health"]["code"] == "model_load_failed"
    assert device.link("current") == good
    assert device.link("known_good") == good
    assert device.link("previous") == good
    assert device.watchdog_state() is None
    rolled = [entry for entry in device.journal() if entry["state"] == "rolled_back"]
    assert rolled[-1]["trigger"] == "health_check"


def test_latency_budget_rolls_back(device, staged):
    good = staged("1.0.0")
    activate(device, good)
    commit(device, good)
    health = {"max_p95_ms": 0.000001, "max_error_rate": 0.0, "warmup": 1, "runs": 5, "samples": "samples.npz"}
    slow = staged("2.0.0", health=health)
    status, reply = activate(device, slow)
    assert status == 1
    assert reply["code"] == "health_check_failed"
    assert reply["health"]["code"] == "latency_over_budget"
    assert reply["health"]["measured"]["p95_ms"] > 0.000001
    assert reply["current"] == good
    assert device.link("current") == good


def test_failed_first_activation_leaves_no_release(device, staged):
    broken = staged("1.0.0", files=vad_files(b"garbage"))
    status, reply = activate(device, broken)
    assert status == 1
    assert reply["code"] == "health_check_failed"
    assert reply["current"] is None
    assert device.link("current") is None


def test_release_without_health_budget(device, staged):
    release = staged("1.0.0", files=vad_files(b"garbage"), health=None)
    status, reply = activate(device, release)
    assert status == 0, reply
    assert reply["health"]["skipped"] is True


def test_second_activation_waits_for_commit(device, staged):
    first = staged("1.0.0")
    second = staged("2.0.0")
    activate(device, first)
    status, reply = activate(device, second)
    assert status == 1
    assert reply["code"] == "activation_pending"
    assert device.link("current") == first


def test_rollback_previous_and_known_good(device, staged):
    first = staged("1.0.0")
    second = staged("2.0.0")
    activate(device, first)
    commit(device, first)
    activate(device, second)
    commit(device, second)
    assert device.link("previous") == first

    status, reply = device.run("rollback", {"to": "previous", "reason": "operator request"})
    assert status == 0, reply
    assert reply["rolled_back"] is True
    assert device.link("current") == first
    assert device.link("known_good") == second
    assert device.journal()[-1]["detail"]["reason"] == "operator request"
    assert device.journal()[-1]["trigger"] == "user"

    status, reply = device.run("rollback", {"to": "known_good"})
    assert status == 0, reply
    assert device.link("current") == second

    status, reply = device.run("rollback", {"to": "known_good"})
    assert status == 0
    assert reply["rolled_back"] is False


def test_rollback_disarms_watchdog(device, staged):
    first = staged("1.0.0")
    second = staged("2.0.0")
    activate(device, first)
    commit(device, first)
    activate(device, second)
    pid = device.watchdog_state()["pid"]
    status, reply = device.run("rollback", {"to": "known_good", "reason": "canary failed", "trigger": "wave_halted"})
    assert status == 0, reply
    assert reply["watchdog_disarmed"] is True
    assert device.link("current") == first
    assert device.watchdog_state() is None
    assert wait_until(lambda: not process_alive(pid), timeout_s=5)
    assert device.journal()[-1]["trigger"] == "wave_halted"


def test_rollback_without_target(device, signer):
    status, reply = device.run("rollback", {"to": "known_good"})
    assert status == 1
    assert reply["code"] == "no_rollback_target"


def test_status_lists_roles(device, staged):
    first = staged("1.0.0")
    second = staged("2.0.0")
    activate(device, first)
    commit(device, first)
    activate(device, second)
    status, reply = device.run("status")
    assert status == 0
    states = dict((item["id"], item["state"]) for item in reply["releases"])
    assert states == {first: "known_good", second: "current"}
    assert reply["previous"] == first
    assert reply["watchdog"]["armed"] is True
    assert reply["watchdog"]["release"] == second
    assert reply["watchdog"]["fallback"] == first
    assert 0 < reply["watchdog"]["seconds_left"] <= 120
    assert reply["watchdog"]["process_alive"] is True
    assert reply["journal"][-1]["state"] == "activated"
    assert reply["disk_free_mb"] > 0


def test_lock_serialises_commands(device, staged):
    first = staged("1.0.0")
    activate(device, first)
    lock = os.open(str(device.state / "lock"), os.O_RDWR)
    fcntl.flock(lock, fcntl.LOCK_EX)
    try:
        process = device.start("commit", {"release": first})
        # While this test holds the lock, commit must wait and change nothing.
        assert not wait_until(lambda: process.poll() is not None, timeout_s=1.0)
        assert device.link("known_good") is None
    finally:
        fcntl.flock(lock, fcntl.LOCK_UN)
        os.close(lock)
    assert process.wait(timeout=30) == 0
    assert device.link("known_good") == first


def test_concurrent_activations_one_wins(device, staged):
    first = staged("1.0.0")
    second = staged("2.0.0")
    processes = [device.start("activate", {"release": release}) for release in (first, second)]
    codes = [process.wait(timeout=60) for process in processes]
    device.remember_watchdog()
    assert sorted(codes) == [0, 1]
    winner = (first, second)[codes.index(0)]
    assert device.link("current") == winner
    states = [entry["state"] for entry in device.journal() if entry["command"] == "activate"]
    assert states == ["activating", "health_check", "activated"]


def test_gc_keeps_releases_in_use(device, staged):
    first = staged("1.0.0")
    second = staged("2.0.0", files={"model.onnx": b"unused", "samples.npz": b"x"}, health=None)
    activate(device, first)
    commit(device, first)
    status, reply = device.run("gc", {})
    assert status == 0, reply
    assert reply["removed_releases"] == [second]
    assert len(reply["removed_artifacts"]) == 2
    assert (device.state / "releases" / first / "model.onnx").exists()
    assert not (device.state / "releases" / second).exists()


def test_missing_onnxruntime_fails_check(device, staged, tmp_path):
    # A package named onnxruntime that fails to import, found before the real one.
    fake = tmp_path / "no_onnxruntime" / "onnxruntime"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ImportError('onnxruntime is not installed here')\n")
    release = staged("1.0.0")
    environment = {"PYTHONPATH": os.pathsep.join([str(REPO), str(fake.parent)])}
    status, reply = device.run("activate", {"release": release}, env=environment)
    assert status == 1
    assert reply["code"] == "health_check_failed"
    assert reply["health"]["code"] == "onnxruntime_missing"
    assert device.link("current") is None


# A stand-in model server: its command line contains "serve", and it records each SIGHUP.
SERVER_SCRIPT = """
import signal, sys, time
def record(number, frame):
    with open(sys.argv[1], "a") as handle:
        handle.write("reload\\n")
signal.signal(signal.SIGHUP, record)
with open(sys.argv[1], "a") as handle:
    handle.write("ready\\n")
for _ in range(600):
    time.sleep(0.1)
"""


def test_activate_signals_model_server(device, staged, tmp_path):
    release = staged("1.0.0")
    marker = tmp_path / "reloads.txt"
    server = subprocess.Popen([sys.executable, "-c", SERVER_SCRIPT, str(marker), "serve"])
    device.popens.append(server)
    (device.state / "serve.pid").write_text("{}\n".format(server.pid))
    # The stand-in writes "ready" once its SIGHUP handler is installed.
    assert wait_until(lambda: marker.exists() and "ready" in marker.read_text(), timeout_s=10)
    status, reply = activate(device, release)
    assert status == 0, reply
    assert reply["server"] == {"server": "signalled", "pid": server.pid}
    assert wait_until(lambda: "reload" in marker.read_text(), timeout_s=10)
    assert marker.read_text() == "ready\nreload\n"


def test_stale_server_pid_not_signalled(device, staged):
    release = staged("1.0.0")
    # This test process's PID does not run `serve`, so it must not get SIGHUP.
    (device.state / "serve.pid").write_text("{}\n".format(os.getpid()))
    status, reply = activate(device, release)
    assert status == 0, reply
    assert reply["server"]["server"] == "stale_pid"
