"""Audit records: who did what to which record of which program, and how it ended.

Any service calls ``record`` inside the transaction of the action it audits; the record leaves
through that service's outbox as an ``audit_recorded`` event, and identity appends it to the
program's hash chain. So an audited action and its record commit or fail together.
"""
from shared.outbox import emit

AUDIT_RECORDED = "audit_recorded"


def record(session, org_id, actor_id, action, resource_type, resource_id=None, outcome="success",
           details=None):
    """``details`` must never carry secrets or client health data: ids and field names only."""
    emit(session, AUDIT_RECORDED, org_id, {
        "actor_id": str(actor_id) if actor_id else None, "action": action,
        "resource_type": resource_type, "resource_id": str(resource_id) if resource_id else None,
        "outcome": outcome, "details": details or {},
    })


def record_for(session, caller, action, resource_type, resource_id=None, outcome="success", details=None):
    record(session, caller.org_id, caller.user_id, action, resource_type, resource_id, outcome, details)
