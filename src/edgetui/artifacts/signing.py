"""The Ed25519 key that signs release manifests.

edgetui creates the key on first use under the data folder, or loads a PEM key
the user gives. A passphrase comes only from $EDGETUI_SIGNING_KEY_PASSPHRASE.
Neither the private key nor the passphrase is logged. The private key is
written only to the key file, and the database and the audit log get the
fingerprint only.
"""

import base64
import binascii
import hashlib
import logging
import os
import stat
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from edgetui.errors import InputError
from edgetui.settings import data_dir

log = logging.getLogger("edgetui.artifacts")

PASSPHRASE_ENV = "EDGETUI_SIGNING_KEY_PASSPHRASE"
KEY_FILE_NAME = "release_ed25519"


class SigningKeyError(InputError):
    """The signing key file cannot be read, decrypted or used."""

    title = "Signing key error"


def default_key_path() -> Path:
    """Return the path of the key edgetui creates: the data folder's keys/release_ed25519."""
    return data_dir() / "keys" / KEY_FILE_NAME


def fingerprint_of(public_key_hex: str) -> str:
    """Return "SHA256:<base64>" of a raw 32-byte public key, without padding.

    NOTE: this hashes the raw key, so it differs from `ssh-keygen -l`, which
    hashes the key in SSH wire format.
    """
    digest = hashlib.sha256(bytes.fromhex(public_key_hex)).digest()
    return "SHA256:" + base64.b64encode(digest).decode("ascii").rstrip("=")


def key_name_of(public_key_hex: str) -> str:
    """Return the name devices trust this key under: "edgetui-" and 8 hex digits of its sha256.

    Hex rather than the base64 fingerprint, because the device stores the key
    as <name>.pub and accepts only letters, digits, '.', '_' and '-' in names.
    """
    return "edgetui-" + hashlib.sha256(bytes.fromhex(public_key_hex)).hexdigest()[:8]


def verify_signature(public_key_hex: str, data: bytes, signature_b64: str) -> bool:
    """Tell whether ``signature_b64`` is a valid Ed25519 signature of ``data`` by this public key."""
    try:
        public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        signature = base64.b64decode(signature_b64.encode("ascii"), validate=True)
        public_key.verify(signature, data)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


class SigningKey:
    """An Ed25519 private key loaded from ``path``, with its public key and fingerprint."""

    def __init__(self, private_key: Ed25519PrivateKey, path: Path) -> None:
        self._private_key = private_key
        self.path = path
        raw = private_key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.public_key_hex = raw.hex()
        self.fingerprint = fingerprint_of(self.public_key_hex)
        self.key_name = key_name_of(self.public_key_hex)

    def __repr__(self) -> str:
        # Keeps the private key object out of tracebacks and debug output.
        return f"SigningKey(path={str(self.path)!r}, fingerprint={self.fingerprint!r})"

    @classmethod
    def load_or_create(cls, path: Path | None = None) -> "SigningKey":
        """Load the key at ``path``, creating it there first when it is missing.

        ``path`` defaults to `default_key_path`. A created key is written with
        mode 0600 in a folder with mode 0700, encrypted with the passphrase from
        $EDGETUI_SIGNING_KEY_PASSPHRASE when that is set.
        """
        path = Path(path) if path is not None else default_key_path()
        if not path.exists():
            _create_key_file(path, _passphrase())
        return cls.load(path)

    @classmethod
    def load(cls, path: Path) -> "SigningKey":
        """Load a PEM Ed25519 private key, or raise SigningKeyError naming the file and the fix."""
        path = Path(path)
        try:
            data = path.read_bytes()
        except OSError as error:
            raise SigningKeyError(
                f"Cannot read the signing key {path}: {error.strerror}. Check the path given "
                "with --signing-key and the file's permissions."
            ) from error
        _warn_if_readable_by_others(path)
        private_key = _parse_private_key(path, data, _passphrase())
        key = cls(private_key, path)
        log.info("loaded signing key %s (%s)", path, key.fingerprint)
        return key

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``data``."""
        return self._private_key.sign(data)

    def sign_base64(self, data: bytes) -> str:
        """Return the signature of ``data`` in base64, as manifests carry it."""
        return base64.b64encode(self.sign(data)).decode("ascii")


def _passphrase() -> bytes | None:
    """Return the passphrase from the environment as bytes, or None when unset or empty."""
    value = os.environ.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


def _parse_private_key(path: Path, data: bytes, passphrase: bytes | None) -> Ed25519PrivateKey:
    """Decode PEM bytes into an Ed25519 private key, or raise SigningKeyError."""
    try:
        private_key = serialization.load_pem_private_key(data, password=passphrase)
    except TypeError as error:
        # cryptography raises TypeError when a passphrase is missing or not needed.
        if passphrase is None:
            raise SigningKeyError(
                f"The signing key {path} is protected by a passphrase. "
                f"Set {PASSPHRASE_ENV} to it and run the command again."
            ) from error
        raise SigningKeyError(
            f"The signing key {path} has no passphrase, but {PASSPHRASE_ENV} is set. Unset it."
        ) from error
    except (ValueError, UnsupportedAlgorithm) as error:
        # The message of cryptography can quote the file, so it is not shown.
        hint = f"the passphrase in {PASSPHRASE_ENV} is wrong, or " if passphrase else ""
        raise SigningKeyError(
            f"Cannot load the signing key {path}: {hint}it is not a PEM private key. "
            "Give an Ed25519 key, such as one made by `openssl genpkey -algorithm ed25519`."
        ) from error
    if not isinstance(private_key, Ed25519PrivateKey):
        raise SigningKeyError(
            f"The signing key {path} is a {type(private_key).__name__}, not an Ed25519 key. "
            "Give an Ed25519 key, such as one made by `openssl genpkey -algorithm ed25519`."
        )
    return private_key


def _create_key_file(path: Path, passphrase: bytes | None) -> None:
    """Write a new key to ``path`` atomically, mode 0600, without replacing a key that appears meanwhile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    encryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        # link() fails when the target exists, so two processes that create the
        # key at once both end up using the first one written.
        os.link(temporary, path)
        log.info("created signing key %s", path)
    except FileExistsError:
        log.info("signing key %s was created by another process; using it", path)
    finally:
        temporary.unlink(missing_ok=True)


def _warn_if_readable_by_others(path: Path) -> None:
    """Log a warning when group or others may read the key file."""
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("signing key %s is accessible to other users (mode %o); run chmod 600 on it",
                    path, stat.S_IMODE(mode))
