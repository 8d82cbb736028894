"""JSON responses that render whatever the store holds.

Starlette's JSONResponse refuses NaN and cannot encode a lone surrogate as UTF-8; the store no
longer accepts either (events.admissible), but an older version did, and a page holding one must
still render: such a body is sent as ASCII JSON (the surrogate as its `\\u` escape, which JSON
parsers accept) with NaN and infinities as null.
"""

from __future__ import annotations

import json
import math
from typing import Any

from fastapi.responses import JSONResponse as _StarletteJSONResponse


class JSONResponse(_StarletteJSONResponse):
    def render(self, content: Any) -> bytes:
        try:
            return super().render(content)
        except (UnicodeEncodeError, ValueError):
            return json.dumps(_finite(content), ensure_ascii=True, separators=(",", ":")).encode("ascii")


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _finite(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(item) for item in value]
    return value
