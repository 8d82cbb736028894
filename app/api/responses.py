"""JSON responses that render whatever the store holds, fast.

The body is encoded with orjson: a timeline is the service's most requested answer and its largest
JSON, and orjson encodes it several times faster than the standard library (the same compact,
UTF-8 JSON, keys in the order given).

orjson (like Starlette's json.dumps) refuses a lone surrogate, which cannot be UTF-8; the store no
longer accepts one, nor NaN (events.admissible), but an older version did, and a page holding one
must still render: such a body is sent as ASCII JSON (the surrogate as its `\\u` escape, which JSON
parsers accept) with NaN and infinities as null. The same fallback takes what orjson cannot encode
at all (an integer past 64 bits).
"""

from __future__ import annotations

import json
import math
from typing import Any

import orjson
from fastapi.responses import JSONResponse as _StarletteJSONResponse


def dumps(content: Any) -> bytes:
    """`content` as compact UTF-8 JSON (NaN as null; ASCII with escapes if it holds a lone surrogate)."""
    try:
        return orjson.dumps(content, option=orjson.OPT_NON_STR_KEYS)
    except (orjson.JSONEncodeError, UnicodeEncodeError, ValueError):
        return json.dumps(_finite(content), ensure_ascii=True, separators=(",", ":")).encode("ascii")


class JSONResponse(_StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        return dumps(content)


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
