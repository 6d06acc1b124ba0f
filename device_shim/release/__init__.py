"""Release commands of the device shim: trust, stage, activate, commit, rollback, status, gc, watchdog.

Every command keeps its state under `.edgetui/` in the home folder (the SSH
user's login folder, or `--home DIR`): verified artifacts, unpacked releases,
the `current`, `known_good` and `previous` symlinks, the journal and the
watchdog. Commands that change that state hold `.edgetui/lock`.
"""
