"""edgetui: a terminal console for fleets of edge AI devices, over SSH."""

__version__ = "0.1.0"
