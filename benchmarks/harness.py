"""Shared helpers for the benchmark sections: noisy-machine timing and a plain-text table."""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from statistics import median
from typing import Any


@dataclass
class Trial:
    """One implementation's measurements of one workload, a rate per round (work units per second)."""

    name: str
    rates: list[float] = field(default_factory=list)

    @property
    def best(self) -> float:
        return max(self.rates)

    @property
    def spread(self) -> float:
        """(best - worst) / best over the rounds: how noisy this figure was."""
        return (max(self.rates) - min(self.rates)) / max(self.rates) if len(self.rates) > 1 else 0.0


def ratios_by_round(trial: Trial, reference: Trial) -> list[float]:
    """trial / reference, round by round: within a round both saw the same machine, so these are
    much steadier than a ratio of two best-of figures taken at different moments."""
    return [mine / theirs for mine, theirs in zip(trial.rates, reference.rates, strict=True)]


def timed(run: Callable[[], Any]) -> float:
    """Seconds taken by `run()`, with the cyclic garbage collector kept out of the measured span."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        run()
        return time.perf_counter() - start
    finally:
        if enabled:
            gc.enable()


def interleaved(names: Sequence[str], steps: int, step: Callable[[str, int], Any]) -> dict[str, float]:
    """Run `step(name, i)` for i in range(steps) for every name, taking turns; seconds per name.

    The machines we run on are shared and noisy: another job can slow everything down for a few
    seconds at any moment. Measuring one implementation after the other would hand such a slow
    spell to whichever ran then. Taking turns step by step (each step is a slice of the workload,
    a few tens of milliseconds) spreads every spell over all of them, and rotating the order each
    step means none always goes first (cold caches) or last (a checkpoint left by the others).
    """
    gc.collect()
    gc.freeze()  # the workload's input lives for the whole run; keep it out of every collection
    try:
        seconds = dict.fromkeys(names, 0.0)
        for index in range(steps):
            shift = index % len(names)
            order = list(names[shift:]) + list(names[:shift])
            if (index // len(names)) % 2:
                order.reverse()
            for name in order:
                seconds[name] += timed(lambda: step(name, index))
        return seconds
    finally:
        gc.unfreeze()


def rounds(count: int, names: Sequence[str], measure: Callable[[], dict[str, float]]) -> dict[str, Trial]:
    """Call `measure()` (one rate per name) `count` times; the best is reported, the spread shown."""
    trials = {name: Trial(name) for name in names}
    for _ in range(count):
        for name, value in measure().items():
            trials[name].rates.append(value)
    return trials


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, align: str | None = None) -> str:
    """A Markdown-compatible table: `align` has one 'l' or 'r' per column (default: first columns left)."""
    align = align or "l" * len(headers)
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]

    def line(cells: Sequence[str]) -> str:
        padded = [
            str(cell).rjust(width) if how == "r" else str(cell).ljust(width)
            for cell, width, how in zip(cells, widths, align)
        ]
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (width + 1) + ":") if how == "r" else ("-" * (width + 2)) for width, how in zip(widths, align)
        )
        + "|"
    )
    return "\n".join([line(headers), rule, *(line(row) for row in rows)])


def rate(value: float) -> str:
    """Events per second with thousands separators and no false precision."""
    return f"{value:,.0f}"


def ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}×"


def ratio_range(values: Sequence[float]) -> str:
    """The median ratio, with the lowest and highest when there are several: `0.55× (0.51–0.58)`."""
    if len(values) == 1:
        return ratio(values[0])
    return f"{ratio(median(values))} ({min(values):.2f}–{max(values):.2f})"


def say(message: str) -> None:
    """Progress lines, flushed at once so a long run shows where it is."""
    print(message, flush=True)


def temporary_postgres() -> Any:
    """A throwaway PostgreSQL server, started (tests.support.postgres.TemporaryPostgres; its
    `stop()` deletes it), or an exit that says how to run without one."""
    try:
        from tests.support.postgres import TemporaryPostgres
    except ImportError as error:
        raise SystemExit(
            f"the PostgreSQL benchmarks need tests/support/postgres.py (TemporaryPostgres): {error}; "
            "run with --backends sqlite to skip them"
        ) from None
    return TemporaryPostgres().start()
