"""User text in logs cannot forge lines: control characters in a record's message and its
arguments are escaped (a newline becomes the two characters \\n) before any handler formats it."""

from __future__ import annotations

import logging
import re

# C0 and C1 control characters, DEL, and the Unicode line and paragraph separators.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def escape_controls(text: str) -> str:
    """The text with every control character written as an escape sequence."""
    return _CONTROL.sub(lambda match: match.group().encode("unicode_escape").decode(), text)


def _escaped(value: object) -> object:
    return escape_controls(value) if isinstance(value, str) else value


class EscapeControlCharacters(logging.Filter):
    """A handler filter: escapes control characters in the message and its string arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = escape_controls(record.msg)
        if isinstance(record.args, dict):
            record.args = {key: _escaped(value) for key, value in record.args.items()}
        elif isinstance(record.args, tuple):
            record.args = tuple(_escaped(value) for value in record.args)
        return True
