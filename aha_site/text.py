"""What a reader sees of a text: the measure every length minimum is checked against."""

from __future__ import annotations

import unicodedata

from django.core.validators import BaseValidator
from django.utils.deconstruct import deconstructible
from django.utils.translation import ngettext_lazy


def _invisible(character: str) -> bool:
    # Whitespace, and format characters (category Cf: zero-width spaces and joiners, direction
    # marks, the byte-order mark) that take no room on screen.
    return character.isspace() or unicodedata.category(character) in {"Cf", "Cc"}


def visible_length(text: str) -> int:
    """The number of characters that show: whitespace and zero-width characters not counted."""
    return sum(1 for character in text if not _invisible(character))


def has_visible_text(text: str) -> bool:
    """Whether anything in the text shows at all."""
    return visible_length(text or "") > 0


@deconstructible
class MinVisibleLengthValidator(BaseValidator):
    """Like Django's MinLengthValidator, counting only the characters that show."""

    message = ngettext_lazy(
        "Write at least %(limit_value)d characters (it has %(show_value)d that show).",
        "Write at least %(limit_value)d characters (it has %(show_value)d that show).",
        "limit_value",
    )
    code = "min_length"

    def compare(self, a: int, b: int) -> bool:
        return a < b

    def clean(self, x: str) -> int:
        return visible_length(x)
