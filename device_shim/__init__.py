"""The edgetui device shim: a standard-library-only agent that runs on the device.

It runs on Python 3.6 and later, as a zipapp (`python3 shim.pyz COMMAND`), and
replies with one JSON object on stdout.
"""

__version__ = "0.1.0"
