"""Response bodies of the audit API."""

import uuid
from datetime import datetime

from ninja import Schema


class AuthEventOut(Schema):
    type: str
    at: datetime
    ip: str | None
    user_agent: str
    session_id: uuid.UUID | None
