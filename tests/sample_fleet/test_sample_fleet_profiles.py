"""Profile folders: the bundled ones, loading errors, and stubs of custom captures."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from sample_fleet_helpers import connect, profile_path, read_inventory

from sample_fleet import ProfileError, SampleFleet, list_profiles, load_profile
from sample_fleet.profiles import BUNDLED_PROFILES_DIR

# The fixture folders the profiles were captured from; each has one main-unit profile.
FIXTURE_FOLDERS = {
    "rpi3b-armv7-raspbian", "rpi4-aarch64", "rpi5-bcm2712", "rpi-zero-armv6",
    "jetson-nano-l4t32", "jetson-orin", "coral-edgetpu", "intel-ncs2-movidius",
    "x86_64-nuc-ipc", "riscv-visionfive2-jh7110", "nxp-imx8", "openwrt-busybox",
    "yocto-poky",
}


@pytest.mark.parametrize("folder", sorted(path.name for path in BUNDLED_PROFILES_DIR.iterdir()))
def test_bundled_profile_folder_valid(folder: str) -> None:
    path = BUNDLED_PROFILES_DIR / folder
    data = tomllib.loads((path / "profile.toml").read_text(encoding="utf-8"))

    for field in ("name", "description", "source"):
        assert isinstance(data.get(field), str), field
        assert data[field].strip(), field
    assert data["name"] == folder
    assert (path / "SOURCE.md").is_file()
    captures = [p for sub in ("root", "commands") for p in (path / sub).rglob("*") if p.is_file()]
    assert captures, f"profile {folder} has no captures"
    assert load_profile(path).name == folder


def test_bundled_profiles_cover_every_fixture_folder() -> None:
    main_units = {profile.name for profile in list_profiles() if profile.unit == "main"}

    assert main_units == FIXTURE_FOLDERS


def test_list_profiles_puts_main_units_first() -> None:
    units = [profile.unit for profile in list_profiles()]

    assert units[: len(FIXTURE_FOLDERS)] == ["main"] * len(FIXTURE_FOLDERS)
    assert "main" not in units[len(FIXTURE_FOLDERS):]


def test_only_openwrt_profiles_lack_python() -> None:
    without_python = {profile.name for profile in list_profiles() if not profile.python}

    assert "openwrt-busybox" in without_python
    assert all(name.startswith("openwrt-busybox") for name in without_python)


def test_load_profile_names_missing_toml(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as error:
        load_profile(tmp_path)

    assert str(tmp_path) in str(error.value)
    assert "missing profile.toml" in str(error.value)


def test_load_profile_rejects_no_captures(tmp_path: Path) -> None:
    write_profile(tmp_path, commands={})

    with pytest.raises(ProfileError, match="no captures"):
        load_profile(tmp_path)


def test_load_profile_accepts_missing_root(tmp_path: Path) -> None:
    # A clone has no root/ for profiles that captured only commands: git keeps no empty folders.
    write_profile(tmp_path, commands={"lsusb": "Bus 001 Device 001: ID 1d6b:0002\n"})
    (tmp_path / "root").rmdir()

    assert load_profile(tmp_path).name == "custom"


def test_load_profile_rejects_invalid_exit_file(tmp_path: Path) -> None:
    write_profile(tmp_path, commands={"docker ps.exit": "one\n"})

    with pytest.raises(ProfileError, match="exit status"):
        load_profile(tmp_path)


def write_profile(path: Path, commands: dict[str, str], python: bool = True) -> Path:
    """Create a minimal profile folder at `path` with the given command captures."""
    path.mkdir(parents=True, exist_ok=True)
    (path / "profile.toml").write_text(
        'name = "custom"\ndescription = "test profile"\nsource = "written by the test"\n'
        f"python = {'true' if python else 'false'}\n",
        encoding="utf-8",
    )
    (path / "SOURCE.md").write_text("Written by the test.\n", encoding="utf-8")
    (path / "root").mkdir(exist_ok=True)
    (path / "commands").mkdir(exist_ok=True)
    for line, text in commands.items():
        (path / "commands" / line).write_text(text, encoding="utf-8")
    return path


async def test_stub_matches_braces_and_exit_files(tmp_path: Path) -> None:
    profile = write_profile(
        tmp_path / "custom",
        commands={
            "docker version --format {{.Server.Version}}": "20.10.24\n",
            "docker ps": "Cannot connect to the Docker daemon\n",
            "docker ps.exit": "1\n",
            "docker pull busybox.exit": "125\n",
        },
    )

    async with SampleFleet(tmp_path / "state", devices=1, profiles=[profile]) as fleet:
        async with await connect(read_inventory(fleet)["custom"]) as conn:
            version = await conn.run("docker version --format '{{.Server.Version}}'", check=False)
            ps = await conn.run("docker ps", check=False)
            pull = await conn.run("docker pull busybox", check=False)
            info = await conn.run("docker info", check=False)
            spaced = await conn.run("docker 'version --format' '{{.Server.Version}}'", check=False)

    assert (version.exit_status, version.stdout) == (0, "20.10.24\n")
    assert (ps.exit_status, ps.stdout) == (1, "Cannot connect to the Docker daemon\n")
    assert (pull.exit_status, pull.stdout) == (125, "")
    assert (info.exit_status, info.stderr) == (1, "docker: unrecognized option\n")
    # Arguments are joined with single spaces, so a space inside one argument
    # matches the same file as two arguments.
    assert spaced.stdout == "20.10.24\n"


async def test_devices_assigned_round_robin(tmp_path: Path) -> None:
    profiles = [profile_path("rpi4-aarch64"), profile_path("coral-edgetpu")]

    async with SampleFleet(tmp_path / "state", devices=5, profiles=profiles) as fleet:
        names = [device.name for device in fleet.devices]
        tags = {name: entry["tags"]["profile"] for name, entry in read_inventory(fleet).items()}

    assert names == ["rpi4-aarch64", "coral-edgetpu", "rpi4-aarch64-2", "coral-edgetpu-2", "rpi4-aarch64-3"]
    assert tags["rpi4-aarch64-3"] == "rpi4-aarch64"
    assert tags["coral-edgetpu-2"] == "coral-edgetpu"


async def test_default_profiles_are_bundled(tmp_path: Path) -> None:
    bundled = list_profiles()

    async with SampleFleet(tmp_path / "state", devices=len(bundled) + 1) as fleet:
        profile_names = [device.profile.name for device in fleet.devices]

    assert profile_names == [profile.name for profile in bundled] + [bundled[0].name]


@pytest.mark.parametrize("count", [0, -1])
def test_device_count_below_one_rejected(tmp_path: Path, count: int) -> None:
    with pytest.raises(ValueError, match=f"invalid number of devices {count}"):
        SampleFleet(tmp_path, devices=count)


async def test_invalid_profile_path_raises(tmp_path: Path) -> None:
    fleet = SampleFleet(tmp_path / "state", devices=1, profiles=[tmp_path / "missing"])

    with pytest.raises(ProfileError, match="not a directory"):
        await fleet.start()
    await fleet.stop()


async def test_restart_keeps_keys_and_replaces_inventory(tmp_path: Path) -> None:
    profiles = [profile_path("rpi4-aarch64")]
    state = tmp_path / "state"

    async with SampleFleet(state, devices=1, profiles=profiles) as first:
        first_entry = read_inventory(first)["rpi4-aarch64"]
        # A second fleet on the same state directory while the first still runs.
        async with SampleFleet(state, devices=1, profiles=profiles) as second:
            second_entry = read_inventory(second)["rpi4-aarch64"]
            async with await connect(first_entry) as conn:
                still_served = await conn.run("echo first", check=False)

    assert second_entry["host_key"] == first_entry["host_key"]
    assert second_entry["key_file"] == first_entry["key_file"]
    assert second_entry["port"] != first_entry["port"]
    assert still_served.stdout == "first\n"
