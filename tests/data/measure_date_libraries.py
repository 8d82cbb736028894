"""Measure date-phrase libraries against the labelled phrases of the corpus (not a test).

    /tmp/datelibs/bin/python -m tests.data.measure_date_libraries     # from the repository root

The interpreter needs `dateparser` and, optionally, `recognizers-text-suite` (with `emoji<2`); they
are no dependency of the service, so they live in a throwaway venv. A library has resolved a phrase
exactly when it reports a date overlapping the phrase in the text whose day bounds equal the
label's (a single day for dateparser, which has no ranges); "found" counts any date overlapping it.
"""

from __future__ import annotations

import time
from datetime import date, datetime, timedelta

from app.intake.dates import find_dates, read_edtf
from tests.data.corpus_labels import CORPUS, DATES, FILES, PUBLISHED

BASE = datetime(PUBLISHED.year, PUBLISHED.month, PUBLISHED.day, 12, 0)


def _spans() -> dict[str, list[tuple[int, int, object]]]:
    result: dict[str, list[tuple[int, int, object]]] = {}
    for label in DATES:
        text = (CORPUS / label.file).read_text()
        at = -1
        for _ in range(label.occurrence):
            at = text.find(label.phrase, at + 1)
        result.setdefault(label.file, []).append((at, at + len(label.phrase), label))
    return result


def _score(name: str, found_in: dict[str, list[tuple[int, int, date, date]]], seconds: float) -> None:
    found = exact = 0
    misses = []
    for file, spans in _spans().items():
        for start, end, label in spans:
            want = read_edtf(label.edtf)
            hits = [h for h in found_in.get(file, []) if h[0] < end and start < h[1]]
            found += bool(hits)
            if any((h[2], h[3]) == (want.earliest, want.latest) for h in hits):
                exact += 1
            else:
                misses.append(f"{label.phrase!r}->{[(str(h[2]), str(h[3])) for h in hits][:2]}")
    total = len(DATES)
    print(
        f"{name:48} found {found}/{total}  exact {exact}/{total} ({100 * exact / total:.0f}%)"
        f"  {1000 * seconds / len(FILES):.0f} ms/report"
    )
    print("    misses:", "; ".join(misses[:12]))


def measure_rules() -> None:
    found: dict[str, list[tuple[int, int, date, date]]] = {}
    started = time.perf_counter()
    for file in FILES:
        text = (CORPUS / file).read_text()
        found[file] = [(p.start, p.end, p.earliest, p.latest) for p in find_dates(text, PUBLISHED)]
    _score("this rule layer (app.intake.dates.find_dates)", found, time.perf_counter() - started)


def measure_dateparser() -> None:
    try:
        from dateparser.search import search_dates
    except ImportError:
        print("dateparser: not installed")
        return
    settings = {"PREFER_DATES_FROM": "past", "RELATIVE_BASE": BASE}
    found: dict[str, list[tuple[int, int, date, date]]] = {}
    started = time.perf_counter()
    for file in FILES:
        text = (CORPUS / file).read_text()
        hits = []
        cursor = 0
        for phrase, moment in search_dates(text, languages=["en"], settings=settings) or []:
            at = text.find(phrase, cursor)
            if at == -1:
                at = text.find(phrase)
            cursor = max(cursor, at + 1)
            hits.append((at, at + len(phrase), moment.date(), moment.date()))
        found[file] = hits
    _score("dateparser.search_dates (past, RELATIVE_BASE)", found, time.perf_counter() - started)


def _recognizer_bounds(values: list[dict]) -> tuple[date, date] | None:
    """The past-leaning candidate: the latest whose end is not after the publication day."""
    bounds = []
    for value in values:
        try:
            if "start" in value or "end" in value:
                start = date.fromisoformat(value.get("start", "")[:10])
                end = date.fromisoformat(value.get("end", "")[:10]) - timedelta(days=1)  # exclusive end
                bounds.append((start, max(start, end)))
            elif "value" in value:
                day = date.fromisoformat(value["value"][:10])
                bounds.append((day, day))
        except ValueError:
            continue
    past = [b for b in bounds if b[1] <= PUBLISHED]
    return max(past) if past else (bounds[0] if bounds else None)


def measure_recognizers() -> None:
    try:
        from recognizers_date_time import recognize_datetime
        from recognizers_text import Culture
    except ImportError:
        print("recognizers-text-suite: not installed")
        return
    found: dict[str, list[tuple[int, int, date, date]]] = {}
    started = time.perf_counter()
    for file in FILES:
        text = (CORPUS / file).read_text()
        hits = []
        for result in recognize_datetime(text, Culture.English, reference=BASE):
            bounds = _recognizer_bounds(result.resolution.get("values", []) if result.resolution else [])
            if bounds:
                hits.append((result.start, result.end + 1, bounds[0], bounds[1]))
        found[file] = hits
    _score("recognizers-text-suite (recognize_datetime)", found, time.perf_counter() - started)


if __name__ == "__main__":
    print(f"{len(DATES)} labelled date phrases in {len(FILES)} reports, published {PUBLISHED}")
    measure_dateparser()
    measure_recognizers()
    measure_rules()
