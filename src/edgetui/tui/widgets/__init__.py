"""Reusable widgets of the edgetui console."""
