"""load_samples: .npz, .npy, folders, images with TOML settings, audio, random, and bad data."""

from __future__ import annotations

import numpy as np
import pytest

from edgetui.optimize.data import (
    RANDOM_WARNING,
    DataError,
    InputDefault,
    Preprocess,
    load_preprocess,
    load_samples,
    preprocess_path,
)
from edgetui.optimize.model import inspect_model

from .conftest import DATA, DETECTOR, ORIENTATION, SAMPLE_MODELS, VAD_FLAT, VAD_IF, write_pages

VAD_TOML = """
[audio]
window = 576
hop = 512

[inputs.state]
carry = "stateN"

[inputs.sr]
value = 16000
"""

ORIENTATION_TOML = """
[image]
size = [224, 224]
scale = 0.00392156862745098
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
channel_order = "RGB"
layout = "NCHW"
"""


def test_npz_splits_samples(tmp_path, models):
    arrays = np.random.default_rng(0).standard_normal((5, 3, 224, 224)).astype(np.float32)
    path = tmp_path / "data.npz"
    np.savez(path, x=arrays)
    samples = load_samples(path, models[ORIENTATION])

    assert len(samples.samples) == 5
    assert samples.random is False
    assert samples.samples[2]["x"].shape == (1, 3, 224, 224)
    np.testing.assert_array_equal(samples.samples[2]["x"][0], arrays[2])


def test_npz_multi_input_without_batch_axis(tmp_path, models):
    path = tmp_path / "vad.npz"
    np.savez(
        path,
        input=np.zeros((3, 1, 576), np.float32),
        state=np.zeros((3, 2, 1, 128), np.float32),
    )
    samples = load_samples(path, models[VAD_FLAT])

    assert len(samples.samples) == 3
    assert samples.samples[0]["state"].shape == (2, 1, 128)


def test_npz_missing_input_lists_names(tmp_path, models):
    path = tmp_path / "partial.npz"
    np.savez(path, input=np.zeros((2, 1, 576), np.float32))
    with pytest.raises(DataError) as raised:
        load_samples(path, models[VAD_FLAT])

    message = str(raised.value)
    assert str(path) in message
    assert "no array for input state" in message
    assert "Expected arrays named: input, state" in message


def test_npz_wrong_shape(tmp_path, models):
    path = tmp_path / "small.npz"
    np.savez(path, x=np.zeros((2, 3, 112, 112), np.float32))
    with pytest.raises(DataError) as raised:
        load_samples(path, models[ORIENTATION])

    message = str(raised.value)
    assert str(path) in message
    assert "Input x" in message
    assert "[1, 3, 112, 112]" in message
    assert "[?, 3, 224, 224]" in message


def test_npz_wrong_dtype(tmp_path, models):
    path = tmp_path / "double.npz"
    np.savez(path, x=np.zeros((2, 3, 224, 224), np.float64))
    with pytest.raises(DataError) as raised:
        load_samples(path, models[ORIENTATION])

    message = str(raised.value)
    assert str(path) in message
    assert "dtype float64, expected float32" in message


def test_npz_defaults_fill_missing_inputs(tmp_path, models):
    path = tmp_path / "audio.npz"
    np.savez(path, input=np.zeros((2, 1, 576), np.float32))
    settings = load_preprocess(_write(tmp_path / "vad.toml", VAD_TOML))
    samples = load_samples(path, models[VAD_IF], preprocess=settings)

    assert samples.samples[0]["sr"].dtype == np.int64
    assert int(samples.samples[0]["sr"]) == 16000
    assert samples.samples[0]["state"].shape == (2, 1, 128)


def test_folder_of_npy(tmp_path, models):
    folder = tmp_path / "tensors"
    folder.mkdir()
    for index in range(3):
        np.save(folder / f"{index}.npy", np.full((3, 224, 224), index, np.float32))
    (folder / "README.txt").write_text("three samples")
    samples = load_samples(folder, models[ORIENTATION])

    assert len(samples.samples) == 3
    assert float(samples.samples[2]["x"][0, 0, 0, 0]) == 2.0
    assert any("ignored 1 files" in w for w in samples.warnings)


def test_folder_of_npz_per_sample(tmp_path, models):
    folder = tmp_path / "tensors"
    folder.mkdir()
    for index in range(2):
        np.savez(folder / f"{index}.npz", input=np.zeros((1, 576), np.float32), state=np.zeros((2, 1, 128), np.float32))
    samples = load_samples(folder, models[VAD_FLAT])

    assert len(samples.samples) == 2
    assert samples.samples[1]["input"].shape == (1, 576)


def test_npy_for_multi_input_model_rejected(tmp_path, models):
    path = tmp_path / "input.npy"
    np.save(path, np.zeros((2, 1, 576), np.float32))
    with pytest.raises(DataError) as raised:
        load_samples(path, models[VAD_FLAT])

    assert str(path) in str(raised.value)
    assert ".npz" in str(raised.value)


def test_empty_folder(tmp_path, models):
    folder = tmp_path / "empty"
    folder.mkdir()
    with pytest.raises(DataError) as raised:
        load_samples(folder, models[ORIENTATION])

    assert str(folder) in str(raised.value)
    assert "empty" in str(raised.value)


def test_folder_without_usable_files(tmp_path, models):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("x")
    (folder / "b.csv").write_text("1,2")
    with pytest.raises(DataError) as raised:
        load_samples(folder, models[ORIENTATION])

    assert str(folder) in str(raised.value)
    assert "no usable files" in str(raised.value)


def test_folder_mixing_kinds_rejected(tmp_path, models):
    folder = write_pages(tmp_path / "mixed", ["00"], (224, 224), rotate=False)
    np.save(folder / "extra.npy", np.zeros((3, 224, 224), np.float32))
    with pytest.raises(DataError, match="mixes tensors and images"):
        load_samples(folder, models[ORIENTATION], preprocess=Preprocess())


def test_images_with_toml_beside_model(tmp_path):
    model_path = tmp_path / f"{ORIENTATION}.onnx"
    model_path.write_bytes((SAMPLE_MODELS / f"{ORIENTATION}.onnx").read_bytes())
    _write(preprocess_path(model_path), ORIENTATION_TOML)
    model = inspect_model(model_path)
    folder = write_pages(tmp_path / "pages", ["00", "01"], (300, 200), rotate=False)
    samples = load_samples(folder, model)

    assert len(samples.samples) == 2
    tensor = samples.samples[0]["x"]
    assert tensor.shape == (1, 3, 224, 224)
    assert tensor.dtype == np.float32
    # White paper normalised with ImageNet statistics is about (1 - 0.485) / 0.229 = 2.25 in red.
    assert 2.0 < float(np.median(tensor[0, 0])) < 2.3


def test_image_bgr_nhwc_layout(tmp_path, models):
    from edgetui.optimize.data import image_tensor

    spec = models[DETECTOR].inputs[0]
    settings = Preprocess(size=(64, 96), mean=0.5, std=0.5, channel_order="BGR", layout="NHWC")
    tensor = image_tensor(DATA / "page_00.png", spec, settings)

    assert tensor.shape == (64, 96, 3)
    assert tensor.min() >= -1.0
    assert tensor.max() <= 1.0


def test_image_without_settings(tmp_path, models):
    folder = write_pages(tmp_path / "pages", ["00"], (224, 224), rotate=False)
    with pytest.raises(DataError) as raised:
        load_samples(folder, models[ORIENTATION])

    message = str(raised.value)
    assert str(folder / "page_00_rot0.png") in message
    assert f"{ORIENTATION}.preprocess.toml" in message
    assert "[image]" in message


def test_image_dynamic_size_needs_size(tmp_path, models):
    with pytest.raises(DataError, match=r"size = \[HEIGHT, WIDTH\]"):
        load_samples(DATA / "page_00.png", models[DETECTOR], preprocess=Preprocess(mean=0.5, std=0.5))


def test_invalid_toml_names_file(tmp_path):
    path = _write(tmp_path / "bad.preprocess.toml", '[image]\nchannel_order = "RGBA"\n')
    with pytest.raises(DataError) as raised:
        load_preprocess(path)

    assert str(path) in str(raised.value)
    assert "channel_order" in str(raised.value)


def test_audio_windows_with_carried_state(tmp_path, models):
    settings = load_preprocess(_write(tmp_path / "vad.toml", VAD_TOML))
    samples = load_samples(DATA / "vad_speech16k.wav", models[VAD_IF], preprocess=settings, count=6)

    assert len(samples.samples) == 6
    assert samples.samples[0]["input"].shape == (1, 576)
    assert samples.samples[0]["sr"].shape == ()
    # The state is carried through the whole recording, so later windows see a non-zero state.
    assert np.abs(samples.samples[-1]["state"]).sum() > 0
    assert any("carried" in w for w in samples.warnings)


def test_audio_window_from_model_input(models):
    settings = Preprocess(has_image_settings=False, inputs={"state": InputDefault(fill="zeros")})
    samples = load_samples(DATA / "vad_speech16k.wav", models[VAD_FLAT], preprocess=settings, count=4)

    assert [s["input"].shape for s in samples.samples] == [(1, 576)] * 4
    assert [s["state"].shape for s in samples.samples] == [(2, 1, 128)] * 4


def test_audio_without_state_default_rejected(models):
    settings = Preprocess(has_image_settings=False)
    with pytest.raises(DataError) as raised:
        load_samples(DATA / "vad_speech16k.wav", models[VAD_FLAT], preprocess=settings)

    assert "vad_speech16k.wav" in str(raised.value)
    assert "[inputs.NAME]" in str(raised.value)


def test_random_inputs_warn(models):
    samples = load_samples(None, models[ORIENTATION], use_random=True, count=3, seed=1)

    assert samples.random is True
    assert RANDOM_WARNING in samples.warnings
    assert "accuracy was not measured" in samples.warnings[0]
    assert len(samples.samples) == 3
    assert samples.samples[0]["x"].shape == (1, 3, 224, 224)


def test_random_integer_input_zeroed_with_warning(models):
    settings = Preprocess(has_image_settings=False, window=512)
    samples = load_samples(None, models[VAD_IF], use_random=True, count=2, preprocess=settings)

    assert int(samples.samples[0]["sr"]) == 0
    assert any("input sr set to zeros" in w for w in samples.warnings)


def test_no_data_without_random(models):
    with pytest.raises(DataError) as raised:
        load_samples(None, models[ORIENTATION])

    assert str(models[ORIENTATION].path) in str(raised.value)
    assert "random" in str(raised.value)


def test_missing_data_path(tmp_path, models):
    path = tmp_path / "absent.npz"
    with pytest.raises(DataError) as raised:
        load_samples(path, models[ORIENTATION])

    assert str(path) in str(raised.value)


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_random_dynamic_image_needs_size(models):
    with pytest.raises(DataError) as raised:
        load_samples(None, models[DETECTOR], use_random=True, count=1)

    assert str(models[DETECTOR].path) in str(raised.value)
    assert "[image] size" in str(raised.value)


def test_random_dynamic_image_with_size(models):
    settings = Preprocess(size=(64, 96))
    samples = load_samples(None, models[DETECTOR], use_random=True, count=2, preprocess=settings)

    assert samples.samples[0]["x"].shape == (1, 3, 64, 96)


def test_input_default_needs_one_key(tmp_path):
    path = _write(tmp_path / "two.preprocess.toml", "[inputs.sr]\nvalue = 16000\nfill = \"zeros\"\n")
    with pytest.raises(DataError) as raised:
        load_preprocess(path)

    assert str(path) in str(raised.value)
    assert "exactly one of fill, value or carry" in str(raised.value)


def test_mixed_folder_uses_kind_of_settings(tmp_path, models):
    folder = write_pages(tmp_path / "mixed", ["00"], (224, 224), rotate=False)
    np.save(folder / "labels.npy", np.zeros(4))
    settings_file = tmp_path / "orientation.preprocess.toml"
    settings_file.write_text(ORIENTATION_TOML)

    samples = load_samples(folder, models[ORIENTATION], preprocess=load_preprocess(settings_file))

    assert samples.kind == "images"
    assert len(samples.samples) == 1
    assert any("ignored 1 files" in warning for warning in samples.warnings)


def test_mixed_folder_without_settings_rejected(tmp_path, models):
    folder = write_pages(tmp_path / "mixed", ["00"], (224, 224), rotate=False)
    np.save(folder / "labels.npy", np.zeros(4))

    with pytest.raises(DataError) as raised:
        load_samples(folder, models[ORIENTATION])

    assert str(folder) in str(raised.value)
    assert "mixes" in str(raised.value)
