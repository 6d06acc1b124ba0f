"""The screens of the edgetui console, one per module."""
