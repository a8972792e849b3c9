"""URL converters: an id in a URL is a database id, or the URL does not match (404)."""

from __future__ import annotations

from django.urls import register_converter

# PostgreSQL's bigint: a larger number can name no row, and would make the query itself fail.
MAX_ID = 2**63 - 1


class DatabaseIdConverter:
    """Like Django's `int`, bounded to what a bigint primary key can hold."""

    regex = "[0-9]{1,19}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValueError("beyond any database id")  # Django: no match, so a 404
        return number

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(DatabaseIdConverter, "id")
