"""Error response schemas shared by every router (FastAPI-compatible shapes)."""

from typing import Any

from ninja import Schema


class ErrorOut(Schema):
    detail: str


class ValidationErrorItem(Schema):
    type: str
    loc: list[str | int]
    msg: str
    ctx: dict[str, Any] | None = None


class ValidationErrorOut(Schema):
    detail: list[ValidationErrorItem]
