"""The nurse app in Debian's Chromium, as a phone: 390 x 844 CSS px, touch,
a mobile user agent. The live server and the browser are those of the clinic
page tests (tests/web/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.web.conftest import chromium  # noqa: F401 - shared fixture

PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


@pytest.fixture
def phone(chromium) -> Iterator[Callable[..., tuple[Any, Any, list[str]]]]:  # noqa: F811
    """``phone(**context_options)``: a fresh phone (context), its page, and the
    list its console errors and script exceptions are written to."""
    contexts: list[Any] = []

    def make(**options: Any) -> tuple[Any, Any, list[str]]:
        context = chromium.new_context(**{**PHONE, **options})
        contexts.append(context)
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        return context, page, problems

    yield make
    for context in contexts:
        context.close()
