"""Logging set-up shared by the TUI and the headless commands.

The TUI owns the terminal, so logs always go to a file; `-v` also copies them
to stderr for headless runs.
"""

import logging
import sys
from pathlib import Path

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(log_file: Path, *, verbose: bool = False) -> None:
    """Send edgetui's and sample_fleet's logs to ``log_file`` (and stderr when verbose)."""
    handlers: list[logging.Handler] = []
    try:
        log_file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    except OSError as exc:
        print(f"edgetui: cannot write the log file {log_file}: {exc}", file=sys.stderr)

    if verbose:
        handlers.append(logging.StreamHandler(sys.stderr))

    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))

    root = logging.getLogger()
    root.setLevel(logging.INFO)
    for handler in handlers:
        root.addHandler(handler)

    # asyncssh logs every channel at INFO; keep its warnings and errors only.
    logging.getLogger("asyncssh").setLevel(logging.WARNING)
