"""Deploy signed artifacts to devices: per-device updates, rollouts in waves, rollback and reconcile.

The modules import nothing from the store or the service at import time, so
the store can use the records defined here. Start with `edgetui.service.Fleet`,
whose deploy methods wrap this package.
"""
