"""The audit log: every action edgetui takes, hash-chained so that an edited or removed entry shows."""

from edgetui.audit.log import AuditLog
from edgetui.audit.records import AuditEntry, AuditHead, AuditReport

__all__ = ["AuditEntry", "AuditHead", "AuditLog", "AuditReport"]
