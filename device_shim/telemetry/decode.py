"""Request decoding for POST /v1/infer: JSON and raw bodies to input arrays, outputs back to JSON.

Every check raises BadInput with a message that names the input and states
what to send instead. The server replies to it with 400 "bad_input".
"""

import json

from urllib.parse import parse_qs

# numpy allows at most 32 dimensions before numpy 2 (64 after), so a deeper
# nesting can only be a mistake.
MAX_DIMS = 32
MAX_NAME_CHARS = 256


class BadInput(Exception):
    """The request cannot be run: its message names the input and what to send instead."""


def dtype_name(value, input_name):
    """Return a dtype name from a request, checked against the dtypes serve supports."""
    from device_shim.telemetry.model import ORT_TYPES

    if not isinstance(value, str) or value not in ORT_TYPES.values():
        raise BadInput(
            "input {!r}: dtype {!r} is not supported; send one of {}".format(
                input_name, value, ", ".join(sorted(set(ORT_TYPES.values())))
            )
        )
    return value


def check_dtype(spec, requested):
    """Return the numpy dtype name for spec; requested (or None) must be the model's own type."""
    if spec.dtype is None:
        raise BadInput(
            "input {!r} has type {}, which serve cannot build from a request".format(spec.name, spec.type)
        )
    if requested is None:
        return spec.dtype
    requested = dtype_name(requested, spec.name)
    if requested != spec.dtype:
        raise BadInput(
            "input {!r} expects dtype {}, not {}; convert the data to {} (or leave dtype out of "
            "a JSON request to send the model's type)".format(spec.name, spec.dtype, requested, spec.dtype)
        )
    return requested


def check_shape(spec, shape):
    """Check an array shape against the model's: same rank, and equal where the model fixes a size."""
    if spec.shape is None:
        return
    shape = list(shape)
    fits = len(shape) == len(spec.shape) and all(
        expected is None or expected == actual for expected, actual in zip(spec.shape, shape)
    )
    if not fits:
        wanted = " x ".join("N" if dim is None else str(dim) for dim in spec.shape)
        given = " x ".join(str(dim) for dim in shape) or "a scalar"
        raise BadInput(
            "input {!r} has shape {}, but the model expects {} (N: any size)".format(spec.name, given, wanted)
        )


def parse_shape(value, input_name):
    """Return a shape from a JSON list or a "1,3,224,224" string; raise BadInput when invalid."""
    if isinstance(value, str):
        parts = [part.strip() for part in value.split(",")] if value.strip() else []
        try:
            value = [int(part) for part in parts]
        except ValueError:
            raise BadInput(
                "input {!r}: shape {!r} is invalid; send sizes separated by commas, such as 1,3,224,224".format(
                    input_name, value
                )
            )
    valid = isinstance(value, list) and len(value) <= MAX_DIMS and all(
        isinstance(dim, int) and not isinstance(dim, bool) and dim >= 0 for dim in value
    )
    if not valid:
        raise BadInput(
            "input {!r}: shape {!r} is invalid; send a list of at most {} non-negative sizes".format(
                input_name, value, MAX_DIMS
            )
        )
    return value


def nesting_depth(data):
    """Return the depth of nested lists along the first elements, stopping past MAX_DIMS."""
    depth = 0
    while isinstance(data, list) and depth <= MAX_DIMS:
        depth += 1
        data = data[0] if data else None
    return depth


def element_count(shape):
    count = 1
    for dim in shape:
        count *= dim
    return count


def json_array(numpy, spec, item):
    """Build the array for one input from its JSON object {"data", "dtype"?, "shape"?}."""
    if not isinstance(item, dict) or "data" not in item:
        raise BadInput('input {!r} must be an object {{"data": [...], "dtype"?, "shape"?}}'.format(spec.name))
    dtype = check_dtype(spec, item.get("dtype"))
    data = item["data"]
    if nesting_depth(data) > MAX_DIMS:
        raise BadInput("input {!r}: data is nested more than {} lists deep".format(spec.name, MAX_DIMS))
    try:
        array = numpy.array(data, dtype=dtype)
    except (ValueError, TypeError, OverflowError) as exc:
        raise BadInput(
            "input {!r}: data is not a rectangular nested list of {} numbers ({})".format(spec.name, dtype, exc)
        )
    if item.get("shape") is not None:
        shape = parse_shape(item["shape"], spec.name)
        if element_count(shape) != array.size:
            raise BadInput(
                "input {!r}: shape {} needs {} values, but data has {}".format(
                    spec.name, shape, element_count(shape), array.size
                )
            )
        array = array.reshape(shape)
    check_shape(spec, array.shape)
    return array


def json_feeds(model, body):
    """Decode a JSON request body into {input name: array} for model; raise BadInput when invalid.

    NOTE: json.loads turns a list of floats into Python objects of about 2.6
    times the body's size (measured with tracemalloc for random float32
    values), so a body near the 64 MB limit may not fit on a small board.
    Large tensors should be sent raw.
    """
    try:
        request = json.loads(body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadInput('the body is not valid JSON ({}); send {{"inputs": {{NAME: {{"data": [...]}}}}}}'.format(exc))
    except RecursionError:
        raise BadInput("the body nests JSON too deeply to parse")
    if not isinstance(request, dict) or not isinstance(request.get("inputs"), dict):
        raise BadInput('the body must be {"inputs": {NAME: {"data": [...]}}}')
    names = [spec.name for spec in model.inputs]
    unknown = sorted(name for name in request["inputs"] if model.input(name) is None)
    if unknown:
        raise BadInput(
            "input {!r} is not an input of release {}; its inputs are {}".format(
                unknown[0][:MAX_NAME_CHARS], model.release, names
            )
        )
    missing = [name for name in names if name not in request["inputs"]]
    if missing:
        raise BadInput("input {!r} is missing; release {} needs {}".format(missing[0], model.release, names))
    return dict((spec.name, json_array(model.numpy, spec, request["inputs"][spec.name])) for spec in model.inputs)


def query_value(query, name):
    values = query.get(name)
    return values[-1] if values else None


def raw_feeds(model, query_string, body):
    """Decode a raw body (C-order bytes) and its query into ({input name: array}, output name)."""
    query = parse_qs(query_string, keep_blank_values=True)
    names = [spec.name for spec in model.inputs]
    if len(names) != 1:
        raise BadInput("release {} needs inputs {}; a raw body carries one input, so send JSON".format(
            model.release, names))
    input_name = query_value(query, "input") or names[0]
    spec = model.input(input_name)
    if spec is None:
        raise BadInput("input {!r} is not an input of release {}; its input is {!r}".format(
            input_name[:MAX_NAME_CHARS], model.release, names[0]))

    dtype = check_dtype(spec, query_value(query, "dtype"))
    shape_text = query_value(query, "shape")
    if shape_text is None:
        if spec.shape is None or None in spec.shape:
            raise BadInput("input {!r} has symbolic dimensions {}; send ?shape=...".format(spec.name, spec.shape))
        shape = list(spec.shape)
    else:
        shape = parse_shape(shape_text, spec.name)
    check_shape(spec, shape)

    numpy = model.numpy
    needed = element_count(shape) * numpy.dtype(dtype).itemsize
    if len(body) != needed:
        raise BadInput(
            "input {!r}: shape {} of {} needs {} bytes, but the body has {}".format(
                spec.name, shape, dtype, needed, len(body)
            )
        )
    array = numpy.frombuffer(body, dtype=dtype).reshape(shape)

    output_name = query_value(query, "output")
    outputs = model.output_names()
    if output_name is None:
        output_name = outputs[0]
    elif output_name not in outputs:
        raise BadInput("output {!r} is not an output of release {}; its outputs are {}".format(
            output_name[:MAX_NAME_CHARS], model.release, outputs))
    return {spec.name: array}, output_name


def json_outputs(numpy, names, values):
    """Return {name: {"shape", "dtype", "data"}} for the reply; a non-tensor output keeps its value with null shape."""
    outputs = {}
    for name, value in zip(names, values):
        if isinstance(value, numpy.ndarray):
            outputs[name] = {"shape": list(value.shape), "dtype": str(value.dtype), "data": value.tolist()}
        else:
            outputs[name] = {"shape": None, "dtype": None, "data": value}
    return outputs
