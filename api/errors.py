"""The API's error bodies: one shape for every refusal, with every bad row of a batch."""

from __future__ import annotations

from dataclasses import dataclass

from ninja import Schema


class RowError(Schema):
    index: int | None = None
    field: str
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[RowError] = []


@dataclass(frozen=True, slots=True)
class BadRow:
    index: int | None
    field: str
    message: str


class InvalidInput(Exception):
    """Input refused as a whole (400): nothing was applied."""

    def __init__(self, detail: str, errors: list[BadRow] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class Conflict(Exception):
    """The same external id with different content (409): nothing was changed."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class NotFound(Exception):
    """An unknown external id in the path (404)."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail
