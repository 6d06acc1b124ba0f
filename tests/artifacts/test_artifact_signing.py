"""Tests of the release signing key: creation, permissions, passphrases, and keeping it out of files."""

from __future__ import annotations

import base64
import re
import stat

import pytest
from artifact_models import VAD_MODEL
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edgetui.artifacts.signing import PASSPHRASE_ENV, SigningKey, SigningKeyError, default_key_path
from edgetui.cli.main import main


def write_pem(path, private_key, passphrase: bytes | None = None) -> bytes:
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    pem = private_key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    path.write_bytes(pem)
    path.chmod(0o600)
    return pem


def test_key_created_once_with_mode_0600(tmp_path):
    path = tmp_path / "data" / "edgetui" / "keys" / "release_ed25519"

    first = SigningKey.load_or_create()
    content = path.read_bytes()
    second = SigningKey.load_or_create()

    assert default_key_path() == path
    assert first.path == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert second.public_key_hex == first.public_key_hex
    assert path.read_bytes() == content
    assert [entry.name for entry in path.parent.iterdir()] == ["release_ed25519"]


def test_key_fields_and_signature(key):
    public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(key.public_key_hex))
    signature = key.sign(b"manifest bytes")

    public_key.verify(signature, b"manifest bytes")
    assert re.fullmatch(r"[0-9a-f]{64}", key.public_key_hex)
    assert re.fullmatch(r"SHA256:[A-Za-z0-9+/]{43}", key.fingerprint)
    assert re.fullmatch(r"edgetui-[0-9a-f]{8}", key.key_name)
    assert base64.b64decode(key.sign_base64(b"x")) == key.sign(b"x")


def test_passphrase_key_loads_with_env(tmp_path, monkeypatch):
    path = tmp_path / "user_key.pem"
    private_key = Ed25519PrivateKey.generate()
    write_pem(path, private_key, b"correct horse")
    expected = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    monkeypatch.setenv(PASSPHRASE_ENV, "correct horse")
    key = SigningKey.load(path)

    assert key.public_key_hex == expected.hex()


def test_passphrase_key_without_env_names_variable(tmp_path):
    path = tmp_path / "user_key.pem"
    write_pem(path, Ed25519PrivateKey.generate(), b"correct horse")

    with pytest.raises(SigningKeyError) as caught:
        SigningKey.load(path)

    assert PASSPHRASE_ENV in caught.value.message
    assert str(path) in caught.value.message


def test_wrong_passphrase_rejected(tmp_path, monkeypatch):
    path = tmp_path / "user_key.pem"
    write_pem(path, Ed25519PrivateKey.generate(), b"correct horse")
    monkeypatch.setenv(PASSPHRASE_ENV, "battery staple")

    with pytest.raises(SigningKeyError) as caught:
        SigningKey.load(path)

    assert "passphrase" in caught.value.message
    assert "battery staple" not in caught.value.message


def test_non_ed25519_key_rejected(tmp_path):
    path = tmp_path / "ec_key.pem"
    write_pem(path, ec.generate_private_key(ec.SECP256R1()))

    with pytest.raises(SigningKeyError) as caught:
        SigningKey.load(path)

    assert "not an Ed25519 key" in caught.value.message


def test_missing_key_file_rejected(tmp_path):
    with pytest.raises(SigningKeyError) as caught:
        SigningKey.load(tmp_path / "absent.pem")

    assert "absent.pem" in caught.value.message


def test_private_key_absent_from_database_and_log(tmp_path, monkeypatch, capsys):
    path = tmp_path / "user_key.pem"
    private_key = Ed25519PrivateKey.generate()
    pem = write_pem(path, private_key, b"s3cret-passphrase")
    raw = private_key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
    pem_body = b"".join(pem.splitlines()[1:-1])
    monkeypatch.setenv(PASSPHRASE_ENV, "s3cret-passphrase")
    db = tmp_path / "fleet.db"

    status = main(["--db", str(db), "-v", "artifact", "add", str(VAD_MODEL), "--name", "vad",
                   "--version", "1.0.0", "--signing-key", str(path)])
    # Run the audit commands too, so their output reaches the log file.
    main(["--db", str(db), "audit", "list"])

    assert status == 0
    log_file = tmp_path / "data" / "edgetui" / "edgetui.log"
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("fleet.db*")) + log_file.read_bytes()
    captured = capsys.readouterr()
    everything = stored + captured.out.encode() + captured.err.encode()
    assert log_file.stat().st_size > 0
    for secret in (raw, raw.hex().encode(), base64.b64encode(raw), pem_body, b"s3cret-passphrase"):
        assert secret not in everything
