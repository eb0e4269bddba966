"""Actions: calls into the business's own systems, run only after the visitor confirms.

Declared actions (format, validation, versions, OpenAPI import), the audit, the executor
(``executor``) and the signed pending-action token (``signing``).
"""

from __future__ import annotations

from bpract.actions.errors import ActionsError, ActionsInvalidError, FieldError
from bpract.actions.service import ActionService
from bpract.actions.spec import Action, ActionSet, load_actions, validate_actions
from bpract.actions.storage import EVENTS, AuditEvent, Event

__all__ = [
    "EVENTS",
    "Action",
    "ActionService",
    "ActionSet",
    "ActionsError",
    "ActionsInvalidError",
    "AuditEvent",
    "Event",
    "FieldError",
    "load_actions",
    "validate_actions",
]
