"""How long `propose` takes for a 5,000-character report (not a test: timings vary by machine).

    .venv/bin/python -m tests.data.measure_speed        # from the repository root

The report is the New York Times piece (4,466 characters) with the start of FOX 9's appended, cut
at 5,000 characters; it is proposed into an empty record and into the record after posting
000..003 (65 assertions in five incidents). The first run is cold (no text of the record tokenised
yet); then the median of 20 runs.
"""

from __future__ import annotations

import statistics
import time

from app.intake import Report, find_dates, matching, propose
from app.intake.sentences import sentences
from tests.data.corpus_labels import CORPUS, FILES, PUBLISHED
from tests.data.intake_record import post_in_order, sample_incidents


def _median_ms(run, repeat: int = 20) -> tuple[float, float]:
    for cached in (matching._tokens, matching._joined, matching.cues, matching.count_bounds):
        cached.cache_clear()  # the first run is cold: nothing of the record tokenised yet
    started = time.perf_counter()
    run()
    cold = (time.perf_counter() - started) * 1000
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append((time.perf_counter() - started) * 1000)
    return cold, statistics.median(times)


def main() -> None:
    text = ((CORPUS / FILES[3]).read_text() + "\n" + (CORPUS / FILES[4]).read_text())[:5000]
    report = Report(outlet="Test", text=text, published=PUBLISHED)
    incidents = sample_incidents()
    _, record = post_in_order(FILES[:4])
    known = record.known()
    rows = [
        ("find_dates", lambda: find_dates(text, PUBLISHED)),
        ("sentences (pysbd)", lambda: sentences(text)),
        ("propose, empty record", lambda: propose(report, incidents, [])),
        (f"propose, record of {len(known)} assertions", lambda: propose(report, incidents, known)),
    ]
    print(f"{len(text)} characters, {len(propose(report, incidents, known))} proposals")
    for name, run in rows:
        cold, warm = _median_ms(run)
        print(f"{name:40} first {cold:6.1f} ms   median {warm:6.1f} ms")


if __name__ == "__main__":
    main()
