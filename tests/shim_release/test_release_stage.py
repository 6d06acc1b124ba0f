"""The shim's trust and stage commands, run as subprocesses against a device home."""

import json
import platform
import subprocess
from pathlib import Path

import pytest
from shim_release_helpers import Signer, canonical, make_manifest, stage_request, vad_files


def test_stage_good_release(device, signer):
    manifest = make_manifest(device, vad_files())
    status, reply = device.run("stage", stage_request(signer, manifest))
    assert status == 0, reply
    assert reply["ok"] is True
    release = reply["release"]
    assert release.startswith("vad-1.0.0-")
    folder = device.state / "releases" / release
    assert (folder / "manifest.json").read_bytes() == canonical(manifest)
    assert (folder / "model.onnx").stat().st_size == manifest["files"][0]["size"]
    assert (folder / "samples.npz").exists()
    assert not list((device.state / "releases").glob("*.tmp.*"))
    assert device.journal()[-1]["state"] == "staged"


def test_stage_twice_is_noop(device, signer):
    request = stage_request(signer, make_manifest(device, vad_files()))
    first_status, first = device.run("stage", request)
    before = device.tree()
    second_status, second = device.run("stage", request)
    assert first_status == 0
    assert second_status == 0
    assert second["release"] == first["release"]
    assert second["already_staged"] is True
    assert device.tree() == before


def test_stage_nested_folders(device, signer):
    files = vad_files()
    files["labels/en/names.txt"] = b"speech\nsilence\n"
    status, reply = device.run("stage", stage_request(signer, make_manifest(device, files)))
    assert status == 0, reply
    text = (device.state / "releases" / reply["release"] / "labels" / "en" / "names.txt").read_bytes()
    assert text == b"speech\nsilence\n"


def other_arch():
    return "s390x" if platform.machine() != "s390x" else "riscv64"


def wrong_signature(device, signer):
    manifest = make_manifest(device, vad_files())
    return {"manifest": manifest, "signature": Signer().sign(manifest), "key": signer.name}


def tampered_manifest(device, signer):
    request = stage_request(signer, make_manifest(device, vad_files()))
    request["manifest"]["version"] = "9.9.9"
    return request


def untrusted_key(device, signer):
    manifest = make_manifest(device, vad_files())
    stranger = Signer("stranger")
    return {"manifest": manifest, "signature": stranger.sign(manifest), "key": "stranger"}


def flipped_artifact(device, signer):
    manifest = make_manifest(device, vad_files())
    path = device.state / "artifacts" / manifest["files"][0]["sha256"]
    data = bytearray(path.read_bytes())
    data[1000] ^= 0x01
    path.write_bytes(bytes(data))
    return stage_request(signer, manifest)


def missing_artifact(device, signer):
    manifest = make_manifest(device, vad_files())
    manifest["files"].append({"path": "extra.bin", "sha256": "ab" * 32, "size": 10})
    return stage_request(signer, manifest)


def wrong_arch(device, signer):
    target = {"arch": [other_arch()], "execution_provider": None, "min_memory_mb": None}
    return stage_request(signer, make_manifest(device, vad_files(), target=target))


def too_much_memory(device, signer):
    target = {"arch": None, "execution_provider": None, "min_memory_mb": 1 << 40}
    return stage_request(signer, make_manifest(device, vad_files(), target=target))


def bad_format(device, signer):
    return stage_request(signer, make_manifest(device, vad_files(), format=2))


def renamed(name):
    def build(device, signer):
        manifest = make_manifest(device, vad_files())
        manifest["files"][1]["path"] = name
        manifest["health"]["samples"] = None
        return stage_request(signer, manifest)

    return build


def duplicate_name(device, signer):
    manifest = make_manifest(device, vad_files())
    manifest["files"][1]["path"] = "model.onnx"
    manifest["health"]["samples"] = None
    return stage_request(signer, manifest)


REJECTIONS = [
    ("wrong signature", wrong_signature, "bad_signature", {}),
    ("tampered manifest", tampered_manifest, "bad_signature", {}),
    ("untrusted key", untrusted_key, "untrusted_key", {}),
    ("bit-flipped artifact", flipped_artifact, "corrupt_artifact", {}),
    ("missing artifact", missing_artifact, "missing_artifact", {}),
    ("wrong arch", wrong_arch, "wrong_arch", {}),
    ("memory", too_much_memory, "insufficient_memory", {}),
    ("disk full", lambda device, signer: stage_request(signer, make_manifest(device, vad_files())),
     "insufficient_disk", {"EDGETUI_SHIM_FAKE_FREE_MB": "1"}),
    ("format 2", bad_format, "invalid_manifest", {}),
    ("parent folder", renamed("../x"), "path_traversal", {}),
    ("absolute", renamed("/etc/passwd"), "path_traversal", {}),
    ("escape after normalisation", renamed("a/../../b"), "path_traversal", {}),
    ("inner parent folder", renamed("a/../b"), "path_traversal", {}),
    ("backslash", renamed("..\\x"), "invalid_path", {}),
    ("NUL", renamed("model\x00.onnx"), "invalid_path", {}),
    ("empty", renamed(""), "invalid_path", {}),
    ("empty component", renamed("a//b"), "invalid_path", {}),
    ("dot component", renamed("./b"), "invalid_path", {}),
    ("reserved name", renamed("manifest.json"), "invalid_path", {}),
    ("duplicate", duplicate_name, "invalid_path", {}),
]


@pytest.mark.parametrize("build, code, env", [case[1:] for case in REJECTIONS], ids=[case[0] for case in REJECTIONS])
def test_stage_rejection_changes_nothing(device, signer, build, code, env):
    good_release = make_manifest(device, vad_files(), version="0.9.0")
    status, reply = device.run("stage", stage_request(signer, good_release))
    assert status == 0, reply
    request = build(device, signer)
    before = device.tree()
    status, reply = device.run("stage", request, env=env)
    assert status == 1, reply
    assert reply["ok"] is False
    assert reply["code"] == code, reply
    assert reply["error"]
    assert device.tree() == before
    assert device.journal()[-1]["state"] == "rejected"
    assert device.journal()[-1]["detail"]["code"] == code


def test_corrupt_artifact_reply_names_file(device, signer):
    status, reply = device.run("stage", flipped_artifact(device, signer))
    assert status == 1
    assert [item["path"] for item in reply["corrupt"]] == ["model.onnx"]


def test_insufficient_disk_reply_has_sizes(device, signer):
    request = stage_request(signer, make_manifest(device, vad_files()))
    status, reply = device.run("stage", request, env={"EDGETUI_SHIM_FAKE_FREE_MB": "1"})
    assert status == 1
    assert reply["free_mb"] == 1.0
    assert reply["needed_mb"] > 1.0


def test_trust_keeps_existing_key(device, signer):
    other = Signer()
    status, reply = device.run("trust", {"name": signer.name, "public_key": other.public_hex})
    assert status == 1
    assert reply["code"] == "key_exists"
    stored = (device.state / "trusted_keys" / (signer.name + ".pub")).read_text().strip()
    assert stored == signer.public_hex


def test_trust_replace_and_repeat(device, signer):
    other = Signer()
    status, reply = device.run("trust", {"name": signer.name, "public_key": other.public_hex, "replace": True})
    assert status == 0, reply
    assert reply["changed"] is True
    status, reply = device.run("trust", {"name": signer.name, "public_key": other.public_hex})
    assert status == 0
    assert reply["changed"] is False


@pytest.mark.parametrize(
    "request_body, code",
    [
        ({"name": "../k", "public_key": "00" * 32}, "invalid_request"),
        ({"name": "k", "public_key": "zz" * 32}, "invalid_key"),
        ({"name": "k", "public_key": "00" * 31}, "invalid_key"),
    ],
)
def test_trust_rejects_invalid(device, request_body, code):
    status, reply = device.run("trust", request_body)
    assert status == 1
    assert reply["code"] == code
    assert not (device.state / "trusted_keys").exists()


def test_invalid_json_request(device):
    completed = subprocess.run(
        device.argv("stage"),
        input=b"not json",
        stdout=subprocess.PIPE,
        cwd=device.home,
        env=device.environment(),
        timeout=60,
    )
    reply = json.loads(completed.stdout)
    assert completed.returncode == 1
    assert reply["code"] == "invalid_request"


def test_empty_request_is_invalid_manifest(device):
    status, reply = device.run("stage", {})
    assert status == 1
    assert reply["code"] == "invalid_manifest"


PI4_ROOT = Path(__file__).resolve().parents[2] / "sample_fleet" / "profiles" / "rpi4-aarch64" / "root"


@pytest.mark.parametrize("targets, code", [(["aarch64"], None), (["x86_64"], "wrong_arch")])
def test_stage_arch_follows_root_prefix(device, signer, targets, code):
    # A simulated Raspberry Pi 4 on an x86_64 laptop: no uname on PATH, so the
    # arch comes from the profile's cpuinfo, as `inventory` reports it.
    target = {"arch": targets, "execution_provider": None, "min_memory_mb": None}
    request = stage_request(signer, make_manifest(device, vad_files(), target=target))
    env = {"PATH": "/nonexistent", "EDGETUI_SHIM_ROOT": str(PI4_ROOT)}

    status, reply = device.run("stage", request, env=env)

    assert reply.get("code") == code, reply
    assert status == (0 if code is None else 1)
