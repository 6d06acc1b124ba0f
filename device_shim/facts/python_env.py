"""The running Python and the onnxruntime it imports."""

import json
import platform
import sys

# Run in a child interpreter, so a broken onnxruntime install (a crash in its
# native library, a hang while loading providers) cannot take the shim down.
ONNXRUNTIME_PROBE = (
    "import json, onnxruntime as ort\n"
    "print(json.dumps({'version': str(ort.__version__),"
    " 'providers': [str(p) for p in ort.get_available_providers()]}))\n"
)

# Importing onnxruntime takes a few seconds on a Raspberry Pi Zero class CPU.
ONNXRUNTIME_TIMEOUT = 30.0


def collect_python(ctx):
    """Return the running interpreter's version, e.g. `3.6.9`."""
    return {"python": platform.python_version()}


def collect_onnxruntime(ctx):
    """Return {version, providers} when this interpreter imports onnxruntime, else None."""
    executable = ctx.python_executable or sys.executable
    if not executable:
        return {"onnxruntime": None}
    timeout = max(ctx.timeout, ONNXRUNTIME_TIMEOUT)
    output = ctx.output([executable, "-c", ONNXRUNTIME_PROBE], timeout=timeout)
    if not output:
        return {"onnxruntime": None}
    reply = json.loads(output.strip().splitlines()[-1])
    if not isinstance(reply, dict) or not isinstance(reply.get("version"), str):
        return {"onnxruntime": None}
    providers = [name for name in reply.get("providers") or [] if isinstance(name, str)]
    return {"onnxruntime": {"version": reply["version"], "providers": providers}}
