"""Request bodies parsed as JSON, with the limits a hostile body needs.

Python's json module accepts three things this API must refuse with a 400
rather than fail on later with a 500:

- lone UTF-16 surrogates (``"\\ud800"``): valid JSON escapes, but no character,
  so encoding the string (for the database, a log or a rate-limit key) raises;
- nesting deep enough to exhaust the interpreter's stack (a few thousand
  ``[``: RecursionError);
- integers of thousands of digits, which overflow the float and integer
  fields they are loaded into (no number in this API needs more than 30).

Both body readers use it: the request parser of every route (webargs, through
``ProblemParser``) and ``request.get_json`` (through ``ProblemJSONProvider``).
"""

from __future__ import annotations

import json
from typing import Any

from flask.json.provider import DefaultJSONProvider
from webargs import core
from webargs.flaskparser import FlaskParser, abort, is_json_request

MAX_INT_DIGITS = 30


def _parse_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"A number has more than {MAX_INT_DIGITS} digits.")
    return int(text)


def _has_lone_surrogate(value: Any) -> bool:
    if isinstance(value, str):
        return any("\ud800" <= ch <= "\udfff" for ch in value)
    if isinstance(value, dict):
        return any(_has_lone_surrogate(k) or _has_lone_surrogate(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_lone_surrogate(v) for v in value)
    return False


def load_json(text: str | bytes) -> Any:
    """Parse a request body; ValueError (a JSONDecodeError where json gives one)
    saying what is wrong for anything the API refuses."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")  # UnicodeDecodeError is a ValueError
    try:
        value = json.loads(text, parse_int=_parse_int)
        # Only an escape can produce a surrogate (UTF-8 text cannot hold one),
        # so the walk runs only for bodies that contain one.
        lone = ("\\ud" in text or "\\uD" in text) and _has_lone_surrogate(value)
    except RecursionError:  # the parse or the walk: either way, too deep
        raise ValueError("The JSON is nested too deeply.") from None
    if lone:
        raise ValueError("A string holds a lone UTF-16 surrogate (\\ud800-\\udfff).")
    return value


class ProblemJSONProvider(DefaultJSONProvider):
    """Flask's JSON, reading request bodies with ``load_json``."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        return load_json(s)


class ProblemParser(FlaskParser):
    """webargs' Flask parser, reading JSON bodies with ``load_json`` and saying
    why a body was refused."""

    def _raw_load_json(self, req: Any) -> Any:
        if not is_json_request(req):
            return core.missing
        try:
            return load_json(req.get_data(cache=True))
        except (json.JSONDecodeError, UnicodeDecodeError):
            abort(400, messages={"json": ["Invalid JSON body."]})
        except ValueError as exc:
            abort(400, messages={"json": [str(exc)]})
