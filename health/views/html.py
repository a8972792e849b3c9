"""Small transforms of rendered HTML."""

from __future__ import annotations

import re

# Template indentation: spaces and tabs that start a line. A browser collapses them with the
# line break before them, so dropping them changes nothing a reader sees.
_INDENTATION = re.compile(r"\n[ \t]+")
_PREFORMATTED = re.compile(r"<(?:pre|textarea)\b", re.IGNORECASE)


def without_indentation(html: str) -> str:
    """`html` without the templates' indentation (a tenth of the dashboard's bytes); pages with
    preformatted text are left as they are, since there the spaces are content."""
    if _PREFORMATTED.search(html):
        return html
    return _INDENTATION.sub("\n", html)
