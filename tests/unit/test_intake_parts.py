"""The parts of the intake one by one: sentences and clauses, speakers, kinds, matching cues, and
that the package stays pure."""

from __future__ import annotations

import ast
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.intake import KnownAssertion, KnownIncident, Report, propose
from app.intake.kinds import KINDS, kind_of
from app.intake.matching import count_bounds, cues, quantity_conflict, tokens
from app.intake.sentences import clauses, sentences
from app.intake.speakers import Attribution, NameBook, actors, speaker
from tests.support.examples import examples

ROOT = Path(__file__).resolve().parents[2]
MONDAY = date(2026, 2, 2)


# -- sentences and clauses ----------------------------------------------------------------------


def test_sentences_keep_offsets_mend_titles_and_skip_what_is_no_fact():
    text = (
        "Bodycams being deployed, Noem says\n\n"
        "In the aftermath of two shootings, Sec. Kristi Noem says cameras are being deployed.\n"
        "👉 Listen to Sky News Daily on your podcast app 👈\n"
        "What we know:\n"
        "by https://www.nytimes.com/by/someone · NY TimesAll officers will be equipped with cameras, "
        "Noem said on Monday.\n"
        "Michael Gold contributed reporting.\n"
        "Quick Summary\n"
        "Noem ordered cameras. Trump endorsed it.\n"
    )
    found = sentences(text, title="Bodycams being deployed, Noem says")
    for s in found:
        assert text[s.start : s.end] == s.text
    facts = [s.text for s in found if s.skip is None]
    assert facts == [
        "In the aftermath of two shootings, Sec. Kristi Noem says cameras are being deployed.",
        "All officers will be equipped with cameras, Noem said on Monday.",
    ]
    reasons = {s.text[:12]: s.skip for s in found if s.skip}
    assert reasons["Bodycams bei"] == "headline"
    assert reasons["👉 Listen to "] == "promotion"
    assert reasons["What we know"] == "heading"
    assert reasons["by https://w"] == "byline"
    assert reasons["Michael Gold"] == "credit"
    assert reasons["Noem ordered"] == "summary"


def test_a_quotation_over_several_sentences_is_known_to_go_on():
    text = (
        'Noem wrote: "I just spoke with them. Effective immediately, we deploy cameras. We will expand.\n"Thank you."'
    )
    found = sentences(text)
    assert [s.quoted_from_before for s in found] == [False, True, True, False]


@pytest.mark.parametrize(
    ("sentence", "parts"),
    [
        (
            "After two officers shot and killed Alex Pretti in late January, investigators began reviewing cameras.",
            [
                ("leading", "After two officers shot and killed Alex Pretti in late January"),
                ("main", "investigators began reviewing cameras."),
            ],
        ),
        (
            "After federal agents fatally shot Alex Pretti, a U.S. citizen, officials said there was footage.",
            [
                ("leading", "After federal agents fatally shot Alex Pretti, a U.S. citizen"),
                ("main", "officials said there was footage."),
            ],
        ),
        (
            "Two agents have been placed on leave, while the Department of Justice has opened an investigation.",
            [
                ("main", "Two agents have been placed on leave"),
                ("coordinate", "the Department of Justice has opened an investigation."),
            ],
        ),
        (
            "A review found that he was shot after resisting arrest, but did not indicate that he brandished a weapon.",
            [
                ("main", "A review found that he was shot after resisting arrest"),
                ("coordinate", "did not indicate that he brandished a weapon."),
            ],
        ),
        (
            "Alex Pretti was killed by immigration officers just weeks after Renee Good was shot dead by an ICE agent.",
            [
                ("main", "Alex Pretti was killed by immigration officers"),
                ("trailing", "Renee Good was shot dead by an ICE agent."),
            ],
        ),
        (
            "Following Mr Pretti’s death, Ms Noem claimed he came with a weapon.",
            [("whole", "Following Mr Pretti’s death, Ms Noem claimed he came with a weapon.")],
        ),
        (
            "Officers were deployed to Chicago, Maine and New Orleans in recent months.",
            [("whole", "Officers were deployed to Chicago, Maine and New Orleans in recent months.")],
        ),
        (
            "She spoke with Tom Homan, the border czar; the ICE director; and the CBP commissioner.",
            [("whole", "She spoke with Tom Homan, the border czar; the ICE director; and the CBP commissioner.")],
        ),
    ],
)
def test_clauses(sentence, parts):
    [only] = sentences(sentence)
    found = clauses(sentence, only)
    assert [(c.role, c.text) for c in found] == parts
    for c in found:
        assert sentence[c.start : c.end] == c.text
    if len(found) > 1 and found[-1].role == "coordinate" and found[-1].text.startswith("did not"):
        assert found[-1].subjectless


@settings(max_examples=examples(150), deadline=None)
@given(st.text(alphabet=st.sampled_from(list("abc ABC.,;:!?“”\"'’\n-0123456789")), max_size=300))
def test_sentences_and_clauses_slice_the_text_for_any_input(text):
    for s in sentences(text):
        assert text[s.start : s.end] == s.text
        for c in clauses(text, s):
            assert text[c.start : c.end] == c.text
            assert s.start <= c.start <= c.end <= s.end


# -- speakers -----------------------------------------------------------------------------------

REPORT = (
    "Homeland security secretary Kristi Noem said every agent will be given one. "
    "Donald Trump insisted it was not his decision. "
    "White House press secretary Karoline Leavitt spoke. Republican Senator Ron Johnson agreed."
)
BOOK = NameBook.of(REPORT, ["Alex Pretti"])


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("Homeland security secretary Kristi Noem said every agent will be given one.", ("Kristi Noem", "person")),
        ("Ms Noem claimed he “came with a weapon”.", ("Kristi Noem", "person")),
        ("Ms. Noem said that the change would be effective immediately.", ("Kristi Noem", "person")),
        (
            "All officers will be equipped, Kristi Noem, the homeland security secretary, said on Monday.",
            ("Kristi Noem", "person"),
        ),
        ("Kristi Noem announced Monday that cameras would be deployed.", ("Kristi Noem", "person")),
        (
            "“Effective immediately we are deploying cameras,” Noem wrote in a social media post.",
            ("Kristi Noem", "person"),
        ),
        ("President Donald Trump on Monday said he was leaving it to Noem.", ("Donald Trump", "person")),
        ("On Monday, Mr. Trump said it “wasn’t my decision”.", ("Donald Trump", "person")),
        ("Leavitt said conversations were ongoing.", ("Karoline Leavitt", "person")),
        (
            "“I don’t have a problem with that,” Republican Senator Ron Johnson told CNN’s Dana Bash on Sunday.",
            ("Ron Johnson", "person"),
        ),
        (
            "The Department of Homeland Security has previously said four officers wore cameras.",
            ("Department of Homeland Security", "body"),
        ),
        (
            "In a statement in December, the Department of Homeland Security said “ICE never violated the order.”",
            ("Department of Homeland Security", "body"),
        ),
        (
            "Late last year, ICE told a nonprofit watchdog that it had found no records.",
            ("Immigration and Customs Enforcement", "body"),
        ),
        ("According to DHS, the agents were wearing cameras.", ("Department of Homeland Security", "body")),
        (
            "Department of Homeland Security officials said there was footage.",
            ("Department of Homeland Security officials", "group"),
        ),
        ("DHS officials said there was footage.", ("Department of Homeland Security officials", "group")),
        ("federal officials said she tried to run over law enforcement.", ("Federal officials", "group")),
        ("Officials said the shooting is under review.", ("Officials", "group")),
        ("State and local officials quickly disputed that account.", ("State and local officials", "group")),
        (
            "Customs and Border Protection’s internal investigation found that only two officers fired.",
            ("Customs and Border Protection", "finding"),
        ),
        ("CBP's review found no indication he brandished a weapon.", ("Customs and Border Protection", "finding")),
        (
            "A preliminary review by Customs and Border Protection’s watchdog office, based on video, found so.",
            ("Customs and Border Protection", "finding"),
        ),
        (
            "A New York Times analysis of witness videos found that he appeared disarmed.",
            ("The New York Times", "finding"),
        ),
        ("According to the New York Post report, an agent may have misfired the gun.", ("New York Post", "outlet")),
        ("ProPublica reported that two officers fired.", ("ProPublica", "outlet")),
        ("A New York Post report said an agent misfired the gun.", ("New York Post", "outlet")),
        ("Over the weekend, citing government records, ProPublica identified the officers.", ("ProPublica", "outlet")),
        (
            "White House border official Tom Homan, sent to oversee matters, recently indicated a drawdown.",
            ("Tom Homan", "person"),
        ),
        ("On Friday, Deputy Attorney General Todd Blanche confirmed the investigation.", ("Todd Blanche", "person")),
    ],
)
def test_speakers(clause, expected):
    book = NameBook.of(REPORT + " " + clause, ["Alex Pretti"])
    found = speaker(clause, book)
    assert found is not None and (found.name, found.kind) == expected


@pytest.mark.parametrize(
    "clause",
    [
        "Mr Trump has sent Tom Homan to Minneapolis to replace Gregory Bovino.",
        "Two agents have been placed on administrative leave.",
        "According to reports, DHS was probing whether an agent discharged the weapon.",
        "Officers will be equipped with body-worn cameras.",
    ],
)
def test_a_fact_the_outlet_states_has_no_speaker(clause):
    assert speaker(clause, BOOK) is None


def test_pronouns_and_roles_are_the_speaker_before():
    noem = Attribution("Kristi Noem", "person")
    assert speaker("She also said cameras would be sent nationwide.", BOOK, noem) == noem
    trump = Attribution("Donald Trump", "person")
    assert speaker("“They tend to be good for law enforcement,” the US president said.", BOOK, trump) == trump


def test_actors_are_full_names_and_bodies():
    clause = "Following Mr Pretti’s death, Ms Noem said ICE and the Justice Department would act."
    assert actors(clause, NameBook.of(REPORT, ["Alex Pretti"])) == (
        "Alex Pretti",
        "Kristi Noem",
        "Immigration and Customs Enforcement",
        "Department of Justice",
    )


def test_a_title_case_headline_is_no_name():
    book = NameBook.of("Officers Will Wear Body Cameras, Noem Says\nKristi Noem said so.")
    assert book.full == {"Kristi Noem"}


# -- kinds --------------------------------------------------------------------------------------

PERSON = Attribution("Kristi Noem", "person")
REVIEW = Attribution("Customs and Border Protection", "finding")


@pytest.mark.parametrize(
    ("clause", "attribution", "kind"),
    [
        ("Renee Good was shot dead by an ICE agent in her car.", None, "shooting"),
        ("Two officers shot and killed Alex Pretti in late January.", None, "shooting"),
        ("Alex Pretti was killed by immigration officers.", None, "death"),
        ("Two agents have been placed on administrative leave.", None, "officer_leave"),
        ("ProPublica identified Jesus Ochoa as one of the officers who fired shots.", None, "officer_identified"),
        ("Trump has sent Tom Homan to Minneapolis to replace Gregory Bovino.", None, "personnel_change"),
        ("The Department of Justice has opened a federal civil rights investigation.", None, "investigation_opened"),
        ("Homeland Security Investigations is leading the review of the shooting.", None, "investigation_opened"),
        ("In October, a federal judge in Illinois ordered agents to turn cameras on.", None, "court_order"),
        ("A similar requirement was imposed by a federal judge last year.", None, "court_order"),
        ("The House last month passed a spending bill.", None, "legislation"),
        ("Senate Democrats are advocating for legislation.", None, "legislation"),
        ("Officers will be equipped with body-worn cameras.", None, "policy_announced"),
        ("Mr Trump rescinded that directive.", None, "policy_announced"),
        ("Several videos appeared to show him with only a phone.", None, "evidence_released"),
        ("That footage has not been made public.", None, "other"),
        ("It is not yet known if the officers were wearing cameras.", None, "other"),
        ("The officer who shot and killed Renee Good filmed the incident on his cellphone.", None, "other"),
        ("Both shootings were captured on multiple videos shot by bystanders.", None, "other"),
        ("Officers on the scene when Mr Pretti was shot were wearing body cameras.", PERSON, "official_statement"),
        ("said she tried to run over law enforcement.", PERSON, "official_statement"),
        ("found that only the two officers had fired their own weapons.", REVIEW, "investigation_finding"),
        ("Protesters marched through downtown.", None, "protest"),
        ("Officers had filmed tense interactions with protestors.", None, "other"),
        ("Hundreds of people protested outside the building.", None, "protest"),
        ("Agents arrested a man on Lake Street.", None, "arrest"),
    ],
)
def test_kinds(clause, attribution, kind):
    assert kind_of(clause, attribution) == kind


@settings(max_examples=examples(100), deadline=None)
@given(st.text(max_size=200))
def test_every_kind_is_in_the_vocabulary(text):
    assert kind_of(text, None) in KINDS


# -- matching cues ------------------------------------------------------------------------------


def test_tokens_fold_names_handles_and_synonyms():
    assert {"^cbp", "weapon", "camera"} <= set(
        tokens("Customs and Border Protection said he had a handgun and body cameras")
    )
    assert {"^tom", "^homan", "^ice", "head"} <= set(tokens("I just spoke with @RealTomHoman, @ICEDirector"))
    assert "^good" in tokens("the shooting of Renee Good") and "^good" not in tokens(
        "cameras tend to be good for law enforcement"
    )


def test_contradiction_cues():
    assert cues("a review found no indication that the officer was run over").strong
    assert (
        cues("did not indicate that he brandished a weapon, as Ms. Noem had earlier claimed").earlier_claimant
        == "Ms. Noem"
    )
    assert cues("State and local officials quickly disputed that account").anaphoric
    assert not cues("Officers said the man was armed").strong


def test_counts_that_cannot_both_hold():
    assert quantity_conflict(count_bounds("as many as 30 body cameras"), [count_bounds("over 30 body cameras")])
    assert not quantity_conflict(count_bounds("as many as 30 body cameras"), [count_bounds("at least four officers")])
    assert not quantity_conflict(count_bounds("about 30 cameras"), [count_bounds("over 30 cameras")])


# -- the pipeline on small texts ----------------------------------------------------------------

INCIDENTS = [
    KnownIncident(
        "alex-pretti-shooting",
        "Alex Pretti fatally shot by federal immigration officers in Minneapolis",
        None,
        ("policy",),
    ),
    KnownIncident("policy", "DHS orders body cameras for its officers in Minneapolis", None, ("alex-pretti-shooting",)),
]


def test_an_undated_fact_is_on_or_before_the_report():
    [p] = propose(Report("Wire", "Two agents were placed on administrative leave.", MONDAY), INCIDENTS, [])
    assert (p.occurred.edtf, p.occurred.latest, p.kind, p.action) == (
        "[..2026-02-02]",
        MONDAY,
        "officer_leave",
        "record",
    )


def test_a_more_precise_date_refines_and_a_vaguer_one_corroborates():
    recorded = KnownAssertion(
        incident_id="alex-pretti-shooting",
        assertion_id="pretti-shot",
        kind="shooting",
        occurred="2026-01-21/2026-01-31",
        headline="Two officers shoot and kill Alex Pretti",
        outlets=("CNN",),
        quotes=("two officers shot and killed Alex Pretti in late January",),
    )
    [sharper] = propose(
        Report("FOX 9", "Federal agents shot and killed Alex Pretti on Saturday, Jan. 24.", MONDAY),
        INCIDENTS,
        [recorded],
    )
    assert (sharper.action, sharper.target_assertion_id, sharper.occurred.edtf) == (
        "refine",
        "pretti-shot",
        "2026-01-24",
    )
    [vaguer] = propose(
        Report("NYT", "Federal agents shot and killed Alex Pretti last month.", MONDAY), INCIDENTS, [recorded]
    )
    assert (vaguer.action, vaguer.target_assertion_id) == ("corroborate", "pretti-shot")
    [other_day] = propose(
        Report("AP", "Federal agents shot and killed Alex Pretti in October.", MONDAY), INCIDENTS, [recorded]
    )
    assert other_day.action == "record"


def test_retracted_assertions_are_never_matched():
    retracted = KnownAssertion(
        incident_id="alex-pretti-shooting",
        assertion_id="old",
        kind="shooting",
        occurred="2026-01",
        headline="Agents shot Alex Pretti",
        quotes=("agents shot and killed Alex Pretti",),
        status="retracted",
    )
    [p] = propose(
        Report("AP", "Federal agents shot and killed Alex Pretti last month.", MONDAY), INCIDENTS, [retracted]
    )
    assert p.action == "record"


@settings(max_examples=examples(60), deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                *'abcdefg ABCDEFG.,;“”"’\n-0123456789',
                " said ",
                " Noem ",
                " last week ",
                " On Friday, ",
                " shot ",
                " Pretti ",
                " did not ",
                " as many as 30 ",
                " over 30 ",
            ]
        ),
        max_size=80,
    ).map("".join)
)
def test_propose_never_raises_and_quotes_the_text(text):
    for p in propose(Report("X", text, MONDAY), INCIDENTS, []):
        assert text[p.start : p.end] == p.quote
        assert p.occurred.earliest <= p.occurred.latest
        assert p.kind in KINDS


# -- purity -------------------------------------------------------------------------------------

IO_MODULES = {
    "sqlalchemy",
    "httpx",
    "httpcore",
    "socket",
    "requests",
    "urllib",
    "psycopg",
    "sqlite3",
    "fastapi",
    "starlette",
    "asyncio",
    "os",
    "subprocess",
    "pathlib",
    "io",
    "time",
    "random",
    "uuid",
    "threading",
    "logging",
}


PURE = ("__init__", "dates", "sentences", "speakers", "kinds", "matching", "pipeline", "model")


def test_the_intake_extraction_does_no_io_and_reads_no_clock():
    for path in (ROOT / "app" / "intake" / f"{name}.py" for name in PURE):
        tree = ast.parse(path.read_text())
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
            elif (
                isinstance(node, ast.Attribute)
                and node.attr in ("now", "today", "utcnow")
                and getattr(node.value, "id", "") in ("date", "datetime")
            ):
                raise AssertionError(f"{path.name} reads the clock")
        assert not names & IO_MODULES, f"{path.name} imports {names & IO_MODULES}"
        assert names <= {
            "__future__",
            "app",
            "events",
            "re",
            "math",
            "hashlib",
            "calendar",
            "dataclasses",
            "datetime",
            "functools",
            "typing",
            "collections",
            "itertools",
            "dateutil",
            "pysbd",
            "rapidfuzz",
        }, (path.name, names)
