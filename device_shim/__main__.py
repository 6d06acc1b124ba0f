"""Entry point: `python3 shim.pyz COMMAND [--root R]` or `python3 -m device_shim COMMAND`."""

import json
import sys

from device_shim.commands import dispatch


def main(argv=None):
    """Run one command and write its reply as one JSON object on stdout; return the exit status.

    A handler that printed its own output (stream's JSON lines) returns None
    as its reply, and nothing more is written.
    """
    reply, status = dispatch(sys.argv[1:] if argv is None else argv)
    if reply is not None:
        sys.stdout.write(json.dumps(reply) + "\n")
        sys.stdout.flush()
    return status


if __name__ == "__main__":
    sys.exit(main())
