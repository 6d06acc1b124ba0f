"""The shim's own Ed25519 verifier against RFC 8032 vectors and the cryptography package."""

import os

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from device_shim import ed25519

# RFC 8032, section 7.1, TEST 1 to TEST 3: (secret key, public key, message, signature), hex.
RFC8032_VECTORS = [
    (
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
    ),
    (
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
    ),
    (
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a",
    ),
]


def flip_bit(data: bytes, index: int) -> bytes:
    changed = bytearray(data)
    changed[index // 8] ^= 1 << (index % 8)
    return bytes(changed)


@pytest.mark.parametrize("secret, public, message, signature", RFC8032_VECTORS)
def test_rfc8032_vector_verifies(secret, public, message, signature):
    assert ed25519.verify(bytes.fromhex(public), bytes.fromhex(message), bytes.fromhex(signature))


@pytest.mark.parametrize("secret, public, message, signature", RFC8032_VECTORS)
def test_rfc8032_vector_matches_cryptography(secret, public, message, signature):
    # Guards against a typing error in the vectors above.
    key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(secret))
    assert key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex() == public
    assert key.sign(bytes.fromhex(message)).hex() == signature


@pytest.mark.parametrize("secret, public, message, signature", RFC8032_VECTORS)
def test_rfc8032_vector_tampered_fails(secret, public, message, signature):
    public_key = bytes.fromhex(public)
    signed = bytes.fromhex(message)
    valid = bytes.fromhex(signature)
    assert not ed25519.verify(public_key, signed + b"\x00", valid)
    assert not ed25519.verify(public_key, signed, flip_bit(valid, 3))
    assert not ed25519.verify(public_key, signed, flip_bit(valid, 300))
    assert not ed25519.verify(flip_bit(public_key, 9), signed, valid)


def test_cryptography_signatures_verify():
    for size in (0, 1, 31, 64, 1000, 5000):
        key = Ed25519PrivateKey.generate()
        public_key = key.public_key().public_bytes_raw()
        message = os.urandom(size)
        signature = key.sign(message)
        assert ed25519.verify(public_key, message, signature), size


def test_cryptography_tampering_fails():
    key = Ed25519PrivateKey.generate()
    public_key = key.public_key().public_bytes_raw()
    message = os.urandom(200)
    signature = key.sign(message)
    other_key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    for bit in (0, 7, 100, 1599):
        assert not ed25519.verify(public_key, flip_bit(message, bit), signature), bit
    for bit in (0, 255, 256, 300, 511):
        assert not ed25519.verify(public_key, message, flip_bit(signature, bit)), bit
    assert not ed25519.verify(other_key, message, signature)
    assert not ed25519.verify(public_key, message[:-1], signature)


def test_non_canonical_s_rejected():
    key = Ed25519PrivateKey.generate()
    public_key = key.public_key().public_bytes_raw()
    message = b"manifest"
    signature = key.sign(message)
    s = int.from_bytes(signature[32:], "little")
    # S + L satisfies the group equation too, so only the S < L rule rejects it.
    malleable = signature[:32] + (s + ed25519.L).to_bytes(32, "little")
    assert ed25519.verify(public_key, message, signature)
    assert not ed25519.verify(public_key, message, malleable)


def test_malformed_input_returns_false():
    key = Ed25519PrivateKey.generate()
    public_key = key.public_key().public_bytes_raw()
    signature = key.sign(b"m")
    # y = 2 has no x on the curve, so this is not a point encoding.
    not_a_point = (2).to_bytes(32, "little")
    # y = p is a non-canonical encoding of y = 0.
    non_canonical_y = (ed25519.P).to_bytes(32, "little")
    cases = [
        (public_key[:31], b"m", signature),
        (public_key, b"m", signature[:63]),
        (public_key, b"m", signature + b"\x00"),
        (not_a_point, b"m", signature),
        (non_canonical_y, b"m", signature),
        (public_key, b"m", not_a_point + signature[32:]),
        ("not bytes", b"m", signature),
        (public_key, "m", signature),
        (32, b"m", 64),
        (None, None, None),
    ]
    for public, message, sig in cases:
        assert ed25519.verify(public, message, sig) is False, (public, message, sig)


def test_point_decoding_rules():
    assert ed25519.decode_point((2).to_bytes(32, "little")) is None
    assert ed25519.decode_point(ed25519.P.to_bytes(32, "little")) is None
    # x = 0 with the sign bit set is invalid (RFC 8032 5.1.3, step 4).
    assert ed25519.decode_point((1 | 1 << 255).to_bytes(32, "little")) is None
    assert ed25519.decode_point((1).to_bytes(32, "little")) is not None
    key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    assert ed25519.decode_point(key) is not None
