"""Extraction: the time to propose the dated facts of one report (goal: < 200 ms for 5,000 characters).

Measured on the five corpus reports as they are, and on a 5,000-character report made of them,
against an empty record and against the record the five reports make when every proposal is
recorded (matching grows with the record). dateparser's in-text date search over the same text is
the peer: the library most often reached for, doing a part of the work.
"""

from __future__ import annotations

import argparse
from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--extraction-repeat",
        type=int,
        default=None,
        help="extractions per report and round (default 20, 2 with --quick)",
    )


def run(options) -> None:
    from datetime import date
    from statistics import median

    from app.intake.model import KnownAssertion, Report
    from app.intake.pipeline import propose
    from benchmarks.harness import timed

    repeat = options.extraction_repeat or (2 if options.quick else 20)
    reports = [(path.name, path.read_text()) for path in sorted(CORPUS.glob("0*.txt"))]
    joined = "\n".join(text for _, text in reports)
    long_text = joined[: joined.rfind(".", 0, 5000) + 1]
    day = date(2026, 2, 2)

    record: list[KnownAssertion] = []
    for name, text in reports:
        for proposal in propose(Report(name, text, day), [], record):
            record.append(
                KnownAssertion(
                    incident_id=proposal.incident_id or "story",
                    assertion_id=f"{name}:{proposal.id}",
                    kind=proposal.kind,
                    occurred=proposal.occurred.edtf,
                    headline=proposal.headline,
                    attributed_to=proposal.attributed_to,
                    outlets=(name,),
                    quotes=(proposal.quote,),
                )
            )

    try:
        from dateparser.search import search_dates
    except ImportError:
        search_dates = None

    print(f"{'report':<34}{'chars':>7}{'facts':>7}{'empty record ms':>17}{'full record ms':>16}{'dateparser ms':>15}")
    for name, text in [*reports, (f"5,000-character report ({len(long_text)})", long_text)]:
        facts = len(propose(Report(name, text, day), [], []))
        rounds = {"empty": [], "full": [], "peer": []}
        for _ in range(options.rounds):
            rounds["empty"].append(
                timed(lambda: [propose(Report(name, text, day), [], []) for _ in range(repeat)]) / repeat
            )
            rounds["full"].append(
                timed(lambda: [propose(Report(name, text, day), [], record) for _ in range(repeat)]) / repeat
            )
            if search_dates is not None:
                settings = {"PREFER_DATES_FROM": "past", "RELATIVE_BASE": __import__("datetime").datetime(2026, 2, 2)}
                rounds["peer"].append(timed(lambda: search_dates(text, languages=["en"], settings=settings)))
        peer = f"{median(rounds['peer']) * 1000:>15.1f}" if rounds["peer"] else f"{'not installed':>15}"
        print(
            f"{name[:33]:<34}{len(text):>7}{facts:>7}{median(rounds['empty']) * 1000:>17.1f}"
            f"{median(rounds['full']) * 1000:>16.1f}{peer}"
        )
    print(
        f"(median of {options.rounds} rounds of {repeat} extractions each; the full record holds {len(record)} assertions)"
    )
