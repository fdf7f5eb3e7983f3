"""The audit (``samplescope.audit(...)``, ``samplescope audit``): difficulty, uncertainty, trust and label issues of the user's data, joined per
sample in one table, with a self-contained HTML report (``samplescope audit``)."""

from .run import AUDIT_MEASURES, AuditResult, audit
from .sources import AuditData, load_audit_data

__all__ = ["AUDIT_MEASURES", "AuditData", "AuditResult", "audit", "load_audit_data"]
