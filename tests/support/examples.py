"""How many examples a property test draws.

`make test` draws every one; `make test-fast` (the edit-test loop) sets TIMELINE_TEST_EXAMPLES to a
fraction, so each property still runs, on fewer inputs.
"""

from __future__ import annotations

import os

SCALE = float(os.environ.get("TIMELINE_TEST_EXAMPLES", "1"))


def examples(count: int) -> int:
    return max(5, round(count * SCALE)) if SCALE < 1 else count
