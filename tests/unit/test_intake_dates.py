"""Date phrases in news text resolved against the publication day: the conventions, on several
anchor days, and the invariants that hold for any text."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.intake.dates import find_dates, on_or_before, read_edtf, span_when
from events.dates import parse_occurred
from tests.support.examples import examples

MONDAY = date(2026, 2, 2)
WEDNESDAY = date(2026, 2, 4)
SUNDAY = date(2026, 2, 1)
SATURDAY = date(2026, 1, 31)
NEW_YEAR_MONDAY = date(2026, 1, 5)
NEW_YEAR = date(2026, 1, 1)  # a Thursday


def resolve(
    phrase: str, published: date, sentence: str = "Officials said that {} the agents were there."
) -> list[tuple[str, str]]:
    text = sentence.format(phrase)
    return [(p.phrase, p.edtf) for p in find_dates(text, published)]


def only(phrase: str, published: date, sentence: str = "Officials said that {} the agents were there.") -> str:
    found = resolve(phrase, published, sentence)
    assert len(found) == 1, found
    assert phrase.lower() in found[0][0].lower() or found[0][0].lower() in phrase.lower(), found
    return found[0][1]


CONVENTIONS = [
    # a Monday report (the corpus's day)
    (MONDAY, "On Friday", "2026-01-30"),
    (MONDAY, "on Monday", "2026-02-02"),
    (MONDAY, "Monday afternoon", "2026-02-02"),
    (MONDAY, "on Sunday", "2026-02-01"),
    (MONDAY, "last week", "2026-01-26/2026-02-01"),
    (MONDAY, "Over the weekend", "2026-01-31/2026-02-01"),
    (MONDAY, "this week", "2026-02-02"),
    (MONDAY, "last month", "2026-01"),
    (MONDAY, "earlier this month", "2026-02-01"),
    (MONDAY, "late January", "2026-01-21/2026-01-31"),
    (MONDAY, "in late January", "2026-01-21/2026-01-31"),
    (MONDAY, "early January", "2026-01-01/2026-01-10"),
    (MONDAY, "mid-January", "2026-01-11/2026-01-20"),
    (MONDAY, "the end of January", "2026-01-21/2026-01-31"),
    (MONDAY, "Late last year", "2025-09/2025-12"),
    (MONDAY, "early last year", "2025-01/2025-04"),
    (MONDAY, "In October", "2025-10"),
    (MONDAY, "in December", "2025-12"),
    (MONDAY, "last October", "2025-10"),
    (MONDAY, "last year", "2025"),
    (MONDAY, "this year", "2026-01/2026-02-02"),
    (MONDAY, "In 2022", "2022"),
    (MONDAY, "Back in 2022", "2022"),
    (MONDAY, "in 1998", "1998"),
    (MONDAY, "since 2022", "2022-01/2026-02-02"),
    (MONDAY, "since October", "2025-10/2026-02-02"),
    (MONDAY, "the 1990s", "199X"),
    (MONDAY, "in recent months", "2025-09/2026-02-02"),
    (MONDAY, "yesterday", "2026-02-01"),
    (MONDAY, "today", "2026-02-02"),
    (MONDAY, "last night", "2026-02-01"),
    (MONDAY, "two days ago", "2026-01-31"),
    (MONDAY, "three months ago", "2025-11"),
    (MONDAY, "Jan. 24", "2026-01-24"),
    (MONDAY, "on Saturday, Jan. 24", "2026-01-24"),
    (MONDAY, "January 24, 2026", "2026-01-24"),
    (MONDAY, "24 January 2026", "2026-01-24"),
    (MONDAY, "Dec. 30", "2025-12-30"),
    (MONDAY, "October 2025", "2025-10"),
    (MONDAY, "Jan. 24-25", "2026-01-24/2026-01-25"),
    (MONDAY, "at 9:05 a.m. Saturday", "2026-01-31T09:05:00"),
    (MONDAY, "on Jan. 24 at about 9 p.m.", "2026-01-24T21:00:00"),
    (MONDAY, "earlier Monday", "2026-02-02"),
    (MONDAY, "late Friday", "2026-01-30"),
    (MONDAY, "since last year", "2025-01/2026-02-02"),
    (MONDAY, "weeks ago", "2025-12-22/2026-01-19"),
    (MONDAY, "on Christmas Day", "2025-12-25"),
    (MONDAY, "last summer", "2025-22"),
    (MONDAY, "last winter", "2024-24"),
    # a Wednesday report
    (WEDNESDAY, "On Friday", "2026-01-30"),
    (WEDNESDAY, "on Monday", "2026-02-02"),
    (WEDNESDAY, "Wednesday", "2026-02-04"),
    (WEDNESDAY, "last Wednesday", "2026-01-28"),
    (WEDNESDAY, "last week", "2026-01-26/2026-02-01"),
    (WEDNESDAY, "Over the weekend", "2026-01-31/2026-02-01"),
    (WEDNESDAY, "this week", "2026-02-02/2026-02-04"),
    (WEDNESDAY, "earlier this week", "2026-02-02/2026-02-03"),
    (WEDNESDAY, "yesterday", "2026-02-03"),
    (WEDNESDAY, "earlier this month", "2026-02-01/2026-02-03"),
    # a Sunday report: the weekend is this one, "last weekend" the one before
    (SUNDAY, "Over the weekend", "2026-01-31/2026-02-01"),
    (SUNDAY, "last weekend", "2026-01-24/2026-01-25"),
    (SUNDAY, "on Saturday", "2026-01-31"),
    (SUNDAY, "Sunday", "2026-02-01"),
    (SUNDAY, "On Friday", "2026-01-30"),
    (SUNDAY, "on Monday", "2026-01-26"),
    (SUNDAY, "last week", "2026-01-19/2026-01-25"),
    (SUNDAY, "this week", "2026-01-26/2026-02-01"),
    # a Saturday report: the weekend so far is the day itself
    (SATURDAY, "Over the weekend", "2026-01-31"),
    (SATURDAY, "on Saturday", "2026-01-31"),
    # the first days of a year
    (NEW_YEAR_MONDAY, "last month", "2025-12"),
    (NEW_YEAR_MONDAY, "In October", "2025-10"),
    (NEW_YEAR_MONDAY, "In December", "2025-12"),
    (NEW_YEAR_MONDAY, "last year", "2025"),
    (NEW_YEAR_MONDAY, "Late last year", "2025-09/2025-12"),
    (NEW_YEAR_MONDAY, "earlier this month", "2026-01-01/2026-01-04"),
    (NEW_YEAR_MONDAY, "this month", "2026-01-01/2026-01-05"),
    (NEW_YEAR_MONDAY, "last week", "2025-12-29/2026-01-04"),
    (NEW_YEAR_MONDAY, "On Friday", "2026-01-02"),
    (NEW_YEAR_MONDAY, "Dec. 30", "2025-12-30"),
    (NEW_YEAR_MONDAY, "Jan. 2", "2026-01-02"),
    (NEW_YEAR, "yesterday", "2025-12-31"),
    (NEW_YEAR, "last month", "2025-12"),
    (NEW_YEAR, "last week", "2025-12-22/2025-12-28"),
    (NEW_YEAR, "In January", "2026-01-01"),
    (NEW_YEAR, "in March", "2025-03"),
    # leap years
    (date(2024, 3, 1), "last month", "2024-02"),
    (date(2024, 3, 1), "Feb. 29", "2024-02-29"),
]


@pytest.mark.parametrize(
    ("published", "phrase", "expected"), CONVENTIONS, ids=[f"{p.isoformat()}-{w}" for p, w, _ in CONVENTIONS]
)
def test_news_conventions(published, phrase, expected):
    assert only(phrase, published) == expected


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The vote will be held on Friday.", "2026-02-06"),
        ("A hearing is scheduled for Feb. 10.", "2026-02-10"),
        ("The House is expected to vote next week.", "2026-02-09/2026-02-15"),
        ("They meet tomorrow.", "2026-02-03"),
        ("Lawmakers will return in March.", "2026-03"),
        ("The ban is set to take effect later this month.", "2026-02-03/2026-02-28"),
    ],
)
def test_a_future_cue_turns_the_phrase_forward(sentence, expected):
    found = find_dates(sentence, MONDAY)
    assert [p.edtf for p in found] == [expected]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pretti was shot on Jan. 24. Two days later, agents left.", ["2026-01-24", "2026-01-26"]),
        ("Pretti was shot on Jan. 24. The next day, agents left.", ["2026-01-24", "2026-01-25"]),
        ("Pretti was shot on Jan. 24, and days later agents left.", ["2026-01-24", "2026-01-25/2026-02-02"]),
        ("He was shot in late January, and cameras worn that day were reviewed.", ["2026-01-21/2026-01-31"] * 2),
        ("Two days after Jan. 24 the agents left.", ["2026-01-26"]),
    ],
)
def test_anaphora_resolves_against_the_previous_date_of_the_paragraph(text, expected):
    assert [p.edtf for p in find_dates(text, MONDAY)] == expected


@pytest.mark.parametrize(
    "text",
    [
        "Investigators were reviewing as many as 30 body cameras worn by agents that day.",  # nothing to point at
        "He was killed just weeks after Renee Good was shot dead.",
        "Some 3,000 agents, 80% of them, and 2022 officers; $20 million; a 37-year-old nurse.",
        "A two-week extension for the fiscal year, over four years, in his second term.",
        "May I ask? The police may act. March with us.",
        "Shortly after the shooting, officials said.",
    ],
)
def test_what_is_no_calendar_date_is_left_out(text):
    assert find_dates(text, MONDAY) == []


def test_a_datetime_publication_counts_by_its_day():
    assert only("On Friday", datetime(2026, 2, 2, 23, 30)) == "2026-01-30"


def test_on_or_before_is_the_date_of_an_undated_fact():
    when = on_or_before(MONDAY)
    parsed = parse_occurred(when.edtf)
    assert (when.edtf, when.latest, when.display) == ("[..2026-02-02]", MONDAY, parsed.display)
    assert parsed.latest == MONDAY and parsed.earliest == date.min


# -- invariants ---------------------------------------------------------------------------------

PAST_LEANING = [
    "On Friday",
    "on Monday",
    "Saturday",
    "last week",
    "Over the weekend",
    "last weekend",
    "last month",
    "earlier this month",
    "this week",
    "this month",
    "this year",
    "earlier this week",
    "late last year",
    "In October",
    "in December",
    "In March",
    "late January",
    "mid-June",
    "early August",
    "last year",
    "yesterday",
    "today",
    "last night",
    "in recent months",
    "in recent weeks",
    "in recent days",
    "two days ago",
    "three weeks ago",
    "a month ago",
    "five years ago",
    "the past week",
    "over the past two years",
    "last summer",
    "this winter",
    "in the fall",
    "since October",
    "since last year",
    "Late last year",
]
published_days = st.dates(min_value=date(1950, 1, 1), max_value=date(2100, 12, 31))


@settings(max_examples=examples(300), deadline=None)
@given(published=published_days, phrase=st.sampled_from(PAST_LEANING))
def test_past_leaning_phrases_never_end_after_the_publication_day(published, phrase):
    found = find_dates(f"Officials said that {phrase} the agents were there.", published)
    assert found, phrase
    for p in found:
        assert p.earliest <= p.latest <= published, (phrase, p)


@settings(max_examples=examples(80), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    published=published_days,
    phrase=st.sampled_from(
        [*PAST_LEANING, "Jan. 24", "Saturday, Jan. 24", "at 9 a.m. Friday", "next week", "the 1990s", "In 2022"]
    ),
)
def test_every_edtf_reads_back_the_same_in_events_dates(published, phrase):
    for p in find_dates(f"Officials said that {phrase} the agents were there.", published):
        parsed = parse_occurred(p.edtf)
        assert (parsed.earliest, parsed.latest, parsed.display) == (p.earliest, p.latest, p.display), p
        assert read_edtf(p.edtf) is not None and (read_edtf(p.edtf).earliest, read_edtf(p.edtf).latest) == (
            p.earliest,
            p.latest,
        )


@settings(max_examples=examples(300), deadline=None)
@given(text=st.text(max_size=400), published=st.dates(min_value=date(1, 1, 2), max_value=date(9999, 12, 30)))
def test_find_dates_never_raises_and_offsets_slice_the_text(text, published):
    for p in find_dates(text, published):
        assert text[p.start : p.end] == p.phrase
        assert p.earliest <= p.latest


words = st.sampled_from(
    [
        "On",
        "Friday",
        "last",
        "week",
        "Jan.",
        "24",
        "2022",
        "In",
        "October",
        "late",
        "the",
        "weekend",
        "Over",
        "days",
        "later",
        "that",
        "day",
        "since",
        "Monday",
        "afternoon",
        "at",
        "9",
        "a.m.",
        "mid-January",
        "and",
        ",",
        ".",
    ]
)


@settings(max_examples=examples(300), deadline=None)
@given(parts=st.lists(words, max_size=30), published=published_days)
def test_date_like_word_salad_keeps_the_invariants(parts, published):
    text = " ".join(parts)
    found = find_dates(text, published)
    for p in found:
        assert text[p.start : p.end] == p.phrase
        assert p.earliest <= p.latest
    assert [p.start for p in found] == sorted(p.start for p in found)
    assert all(a.end <= b.start for a, b in zip(found, found[1:], strict=False))


@settings(max_examples=examples(200), deadline=None)
@given(a=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)), days=st.integers(0, 800))
def test_span_when_is_the_span_events_dates_reads(a, days):
    b = a + timedelta(days=days)
    when = span_when(a, b)
    parsed = parse_occurred(when.edtf)
    assert (parsed.earliest, parsed.latest, parsed.display) == (a, b, when.display)
