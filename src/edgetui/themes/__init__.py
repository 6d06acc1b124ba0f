"""The Textual themes that edgetui offers, stored as one TOML file per theme.

Each file contains the keyword arguments of `textual.theme.Theme`, so a theme can
be added or changed without touching Python code.
"""

import logging
import tomllib
from importlib import resources

from textual.theme import Theme

log = logging.getLogger(__name__)

DEFAULT_THEME = "edgetui-dark"
"""Name of the theme used when the settings name none or an unknown one."""


def load_themes() -> list[Theme]:
    """Read every `*.toml` theme file of this package, sorted by theme name."""
    themes = []
    for entry in resources.files(__package__).iterdir():
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        themes.append(Theme(**data))
    return sorted(themes, key=lambda theme: theme.name)


def resolve_theme_name(requested: str, available: set[str]) -> str:
    """Return ``requested`` when it is an available theme, else the default theme's name."""
    if requested in available:
        return requested
    log.warning("unknown theme %r in settings; using %s", requested, DEFAULT_THEME)
    return DEFAULT_THEME
