"""The `edgetui` command: the TUI by default, and headless commands for scripts."""

from edgetui.cli.main import main

__all__ = ["main"]
