"""Deploy to the sample fleet: commit on every device, then a second deploy that sends nothing."""

from deploy_helpers import DEVICE_NAMES, FAST, GOOD_V1, link, part_files


async def test_deploy_commits_on_three_devices(fleet, sample):
    rollout = await fleet.deploy(GOOD_V1, "all", waves="1,100%", **FAST)

    report = fleet.rollout_report(rollout.id)
    devices = [device for wave in report["waves"] for device in wave["devices"]]
    assert report["state"] == "completed"
    assert [device["state"] for device in devices] == ["committed"] * 3, devices
    for name in DEVICE_NAMES:
        release = link(sample, name, "current")
        assert release is not None and release.startswith("vad-1.0.0-")
        assert link(sample, name, "known_good") == release
        assert part_files(sample, name) == []
