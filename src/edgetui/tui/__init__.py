"""The Textual user interface. It reaches the fleet only through `edgetui.service.Fleet`."""
