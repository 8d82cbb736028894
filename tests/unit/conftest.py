"""Unit-suite hooks: the intake's labelled-set scores are printed at the end of the run."""

from __future__ import annotations

import sys


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    module = sys.modules.get("tests.data.intake_scores")
    scores = getattr(module, "SCORES", None)
    if not scores:
        return
    terminalreporter.section("intake: labelled corpus scores")
    for name, value in scores.items():
        terminalreporter.write_line(f"{name:44} {value}")
