"""Deploys on the sample fleet under faults: cut link, killed activation, full disk, failed health check."""

import pytest
from deploy_helpers import DEVICE_NAMES, FAST, GOOD_V1, GOOD_V2, SLOW, journal, link, part_files, set_fault

from edgetui.errors import InputError

DEVICE = DEVICE_NAMES[0]


def deployment_of(fleet, rollout, name=DEVICE):
    """Return the device's entry of the rollout's report."""
    report = fleet.rollout_report(rollout.id)
    return next(device for wave in report["waves"] for device in wave["devices"] if device["name"] == name)


async def deploy_one(fleet, ref, name=DEVICE):
    rollout = await fleet.deploy(ref, name, waves="100%", **FAST)
    return deployment_of(fleet, rollout, name)


def assert_serving(fleet, sample, name, release_prefix):
    """Check the device serves a committed release and the console's record matches it."""
    current = link(sample, name, "current")
    assert current is not None and current.startswith(release_prefix), current
    assert link(sample, name, "known_good") == current
    assert fleet.device(name).current_release == current
    assert part_files(sample, name) == []


async def test_redeploy_sends_nothing(fleet, sample):
    first = await deploy_one(fleet, GOOD_V1)
    second = await deploy_one(fleet, GOOD_V1)

    assert first["state"] == "committed"
    assert first["bytes_sent"] > 0
    assert second["state"] == "committed"
    assert second["bytes_sent"] == 0


async def test_new_release_of_known_files_sends_nothing(fleet, sample):
    await deploy_one(fleet, GOOD_V1)

    second = await deploy_one(fleet, GOOD_V2)

    # v2 packs the same model and samples, so the device already has every file.
    assert second["state"] == "committed"
    assert second["bytes_sent"] == 0
    assert_serving(fleet, sample, DEVICE, "vad-2.0.0-")


async def test_cut_link_resumes_and_commits(fleet, sample):
    # The shim goes first, so that the cut lands in the artifact's transfer.
    await fleet.releases(DEVICE)
    set_fault(sample, DEVICE, "--cut-after-bytes", "300000")

    result = await deploy_one(fleet, GOOD_V1)

    assert result["state"] == "committed", result
    attempts = [t for t in result["transfers"] if t["ok"] and not t.get("skipped")]
    resumed = [t for t in attempts if t["resumed_from"]]
    assert resumed, result["transfers"]
    for transfer in resumed:
        missing = transfer["bytes_total"] - transfer["resumed_from"]
        assert transfer["bytes_sent"] / missing <= 1.05
    assert_serving(fleet, sample, DEVICE, "vad-1.0.0-")


async def test_killed_activation_returns_to_previous(fleet, sample):
    await deploy_one(fleet, GOOD_V1)
    previous = link(sample, DEVICE, "current")
    set_fault(sample, DEVICE, "--kill-on-activate")

    result = await deploy_one(fleet, GOOD_V2)

    assert result["state"] == "rolled_back", result
    assert result["error_code"] == "activation_interrupted"
    assert link(sample, DEVICE, "current") == previous
    assert link(sample, DEVICE, "known_good") == previous
    assert fleet.device(DEVICE).current_release == previous
    releases = await fleet.releases(DEVICE)
    assert releases["watchdog"]["armed"] is False
    assert releases["current"] == "1.0.0"


async def test_disk_full_refused_before_change(fleet, sample):
    # The first contact installs the shim, which a full disk would reject as well.
    await fleet.releases(DEVICE)
    set_fault(sample, DEVICE, "--disk-full")

    result = await deploy_one(fleet, GOOD_V1)

    assert result["state"] == "failed"
    assert result["error_code"] == "insufficient_disk"
    assert result["bytes_sent"] == 0
    assert link(sample, DEVICE, "current") is None
    assert not (sample.state_dir / DEVICE / "home" / ".edgetui" / "artifacts").exists()
    assert DEVICE not in fleet.store.desired_releases()


async def test_failed_health_check_rolls_back(fleet, sample):
    await deploy_one(fleet, GOOD_V1)
    previous = link(sample, DEVICE, "current")

    result = await deploy_one(fleet, SLOW)

    assert result["state"] == "rolled_back", result
    assert result["trigger"] == "health_check"
    assert result["error_code"] == "latency_over_budget"
    assert_serving(fleet, sample, DEVICE, "vad-1.0.0-")
    assert link(sample, DEVICE, "current") == previous
    events = [e for e in fleet.events(DEVICE) if e.action == "deploy-update"]
    assert events[0].detail["trigger"] == "health_check"
    assert any(entry.get("trigger") == "health_check" for entry in journal(sample, DEVICE))


async def test_canary_failure_halts_wave(fleet, sample):
    await fleet.deploy(GOOD_V1, "all", waves="100%", **FAST)
    before = {name: link(sample, name, "current") for name in DEVICE_NAMES}

    rollout = await fleet.deploy(SLOW, "all", waves="1,100%", **FAST)

    report = fleet.rollout_report(rollout.id)
    assert report["state"] == "halted"
    assert "wave 1" in report["halt_reason"]
    canary, rest = report["waves"][0]["devices"], report["waves"][1]["devices"]
    assert [device["state"] for device in canary] == ["rolled_back"]
    assert [device["state"] for device in rest] == ["planned", "planned"]
    assert {name: link(sample, name, "current") for name in DEVICE_NAMES} == before


async def test_rollback_and_releases(fleet, sample):
    await deploy_one(fleet, GOOD_V1)
    await deploy_one(fleet, GOOD_V2)

    results = await fleet.rollback(DEVICE, to="previous")
    releases = await fleet.releases(DEVICE)

    assert results[0]["ok"] is True
    assert results[0]["version"] == "1.0.0"
    assert link(sample, DEVICE, "current").startswith("vad-1.0.0-")
    assert set(releases) >= {"device", "current", "known_good", "releases"}
    assert releases["device"] == DEVICE
    assert releases["current"] == "1.0.0"
    # The user chose to return to 1.0.0, so it is what a later failure falls back to.
    assert releases["known_good"] == "1.0.0"
    assert {r["version"] for r in releases["releases"]} == {"1.0.0", "2.0.0"}
    assert all(set(r) == {"id", "artifact", "version", "state"} for r in releases["releases"])


async def test_default_rollback_after_commit_returns_to_previous(fleet, sample):
    await deploy_one(fleet, GOOD_V1)
    await deploy_one(fleet, GOOD_V2)

    results = await fleet.rollback(DEVICE)
    releases = await fleet.releases(DEVICE)

    assert results[0]["ok"] is True
    assert results[0]["version"] == "1.0.0"
    assert link(sample, DEVICE, "current").startswith("vad-1.0.0-")
    assert releases["known_good"] == "1.0.0"


@pytest.mark.parametrize("selector", ["rpi4;reboot", "$(id)", "a b", "rpi4|cat"])
async def test_selector_rejects_shell_metacharacters(fleet, selector):
    with pytest.raises(InputError) as caught:
        await fleet.deploy(GOOD_V1, selector, **FAST)

    assert "Invalid device name" in caught.value.message


async def test_selector_names_unknown_devices(fleet):
    with pytest.raises(InputError) as caught:
        await fleet.deploy(GOOD_V1, f"{DEVICE},nosuch-1", **FAST)

    assert "nosuch-1" in caught.value.message


async def test_failing_last_wave_halts_rollout(fleet, sample):
    # A rollout whose only wave fails past --max-failures must not read as completed.
    await deploy_one(fleet, GOOD_V1)
    set_fault(sample, DEVICE, "--disk-full")

    rollout = await fleet.deploy(GOOD_V2, DEVICE, waves="100%", **FAST)

    assert rollout.state == "halted"
    assert rollout.halt_reason
