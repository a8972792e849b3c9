"""The test client, posting forms as a browser does.

A browser sends a form URL-encoded unless it carries a file; Django's test client sends every
form as multipart. The site refuses multipart on views that take no file (415), so tests post
the way the site's real forms do: URL-encoded, and multipart only when a file is attached.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.test import Client as DjangoClient
from django.test.client import MULTIPART_CONTENT

FORM_CONTENT = "application/x-www-form-urlencoded"


def _carries_a_file(data: Mapping[str, Any]) -> bool:
    values = (
        v
        for value in data.values()
        for v in (value if isinstance(value, list | tuple) else [value])
    )
    return any(hasattr(value, "read") for value in values)


class Client(DjangoClient):
    """Django's test client, with forms posted URL-encoded as browsers post them.

    A content type given explicitly is sent as given (a test of what the site refuses).
    """

    def post(self, path: str, data: Any = None, content_type: str | None = None, **kwargs: Any):
        if content_type is None:
            data = {} if data is None else data
            if isinstance(data, Mapping) and _carries_a_file(data):
                content_type = MULTIPART_CONTENT
            else:
                data, content_type = urlencode(data, doseq=True), FORM_CONTENT
        return super().post(path, data, content_type, **kwargs)
