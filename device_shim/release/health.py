"""The release health check: load the entrypoint, time inferences in a child process, compare with the budget."""

import json
import os
import subprocess
import sys
import time

from device_shim.release.watchdog_state import shim_environment

# Seconds the check waits before it starts, so that tests and the sample
# fleet's kill-on-activate fault can end an activation in the middle.
DELAY_ENV = "EDGETUI_SHIM_HEALTH_DELAY_S"


def skipped(reason):
    """Build the result of a check that did not run and counts as passed."""
    return {"passed": True, "skipped": True, "reason": reason}


def failed(code, message, measured=None):
    """Build the result of a failed check."""
    result = {"passed": False, "code": code, "error": message}
    if measured:
        result["measured"] = measured
    return result


def wait_test_delay(timeout_s):
    """Sleep for $EDGETUI_SHIM_HEALTH_DELAY_S seconds, at most timeout_s; return the seconds slept."""
    try:
        delay = float(os.environ.get(DELAY_ENV) or 0)
    except ValueError:
        return 0.0
    delay = max(0.0, min(delay, timeout_s))
    time.sleep(delay)
    return delay


def run_probe(request, cwd, timeout_s):
    """Run the probe child process; return its reply, or a failed result on timeout or crash."""
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "device_shim.release.probe"],
            input=json.dumps(request).encode("utf-8"),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=shim_environment(),
            timeout=timeout_s,
        )
    except subprocess.TimeoutExpired:
        return failed("health_timeout", "the health check did not finish within {:.0f} s".format(timeout_s))
    try:
        return json.loads(completed.stdout.decode("utf-8").strip().splitlines()[-1])
    except (ValueError, IndexError):
        stderr = completed.stderr.decode("utf-8", "replace").strip()[-500:]
        return failed(
            "health_check_crashed",
            "the health check process exited with status {} and no reply: {}".format(completed.returncode, stderr),
        )


def check_release(release_dir, manifest, timeout_s):
    """Run the manifest's health check on the unpacked release; return {"passed": bool, ...}."""
    health = manifest.get("health")
    if health is None:
        return skipped("the manifest sets no health budget")
    timeout_s -= wait_test_delay(timeout_s)
    if timeout_s <= 0:
        return failed("health_timeout", "the health check had no time left to run")
    request = {
        "model": os.path.join(release_dir, *manifest["entrypoint"].split("/")),
        "samples": os.path.join(release_dir, *health["samples"].split("/")) if health.get("samples") else None,
        "provider": manifest["target"].get("execution_provider"),
        "warmup": health["warmup"],
        "runs": health["runs"],
    }
    reply = run_probe(request, release_dir, timeout_s)
    if "passed" in reply:
        return reply
    if not reply.get("ok"):
        return failed(reply.get("code", "health_check_failed"), reply.get("error", "the health check failed"))
    return compare_with_budget(reply, health)


def compare_with_budget(measured, health):
    """Compare measured p95 latency and error rate with the manifest's health budget."""
    max_rate = health.get("max_error_rate", 0.0)
    if measured["error_rate"] > max_rate or measured["p95_ms"] is None:
        return failed(
            "error_rate_over_budget",
            "{} of {} inferences failed (error rate {:.3f}, budget {}); first error: {}".format(
                measured["errors"], measured["runs"], measured["error_rate"], max_rate, measured.get("first_error")
            ),
            measured,
        )
    max_p95 = health.get("max_p95_ms")
    if max_p95 is not None and measured["p95_ms"] > max_p95:
        return failed(
            "latency_over_budget",
            "p95 latency {} ms is over the budget of {} ms".format(measured["p95_ms"], max_p95),
            measured,
        )
    return {"passed": True, "measured": measured}
