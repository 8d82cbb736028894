"""The kind of a fact, from the vocabulary of the event catalog, by rules on its predicate.

A kind comes from what the clause asserts, not from what it mentions: "the officer who shot and
killed Renee Good filmed the incident" is not a shooting, "officers on the scene when Mr Pretti was
shot were wearing body cameras" is not either, and "the fatal shooting of two protesters" as a
noun phrase is background. So relative and mid-clause subordinate clauses ("who ...", "when ...",
"after ...") are set aside before the rules run, and the rules look for verbs ("shot", "opened a
civil rights investigation", "placed on administrative leave", "ordered"), in an order from the
most specific kind to the least. A clause with a speaker and no other kind is an
`official_statement`, or an `investigation_finding` when the speaker is a review or an analysis.
A negated or uncertain release ("has not been made public", "not yet known") is `other`.
"""

from __future__ import annotations

import re

from app.intake.speakers import Attribution
from events.catalog import KINDS as CATALOG_KINDS

__all__ = ["KINDS", "kind_of"]

# The catalog's vocabulary: a kind proposed here is one the record accepts.
KINDS = tuple(sorted(CATALOG_KINDS))


def _r(pattern: str) -> re.Pattern:
    return re.compile(pattern, re.IGNORECASE)


# (kind, pattern): the first that matches wins, so the more specific kinds come first.
_RULES: tuple[tuple[str, re.Pattern], ...] = (
    (
        "officer_identified",
        _r(
            r"\b(?:identified|named)\b[^.;]{0,160}?\bas\s+(?:the\s+)?(?:\w+\s+){0,3}(?:officers?|agents?|shooters?|suspects?|gunman|man|woman)\b"
            r"|\b(?:was|were|has\s+been|have\s+been)\s+(?:publicly\s+)?(?:identified|named)\b"
        ),
    ),
    (
        "officer_leave",
        _r(
            r"\b(?:administrative|paid|unpaid)\s+leave\b|\bplaced\s+on\s+leave\b|\bput\s+on\s+leave\b|\bsuspended\b|\brelieved\s+of\s+duty\b"
        ),
    ),
    (
        "personnel_change",
        _r(
            r"\b(?:to\s+)?replace[sd]?\b|\breplacing\b|\bresign(?:ed|s)?\b|\bstep(?:ped|s)?\s+down\b|\bappointed\b|\bousted\b|\breassigned\b"
            r"|\bsent\b[^.;]{0,80}\bto\s+(?:oversee|lead|take\s+over|run)\b|\bfired\s+(?:as|from)\b|\bnamed\s+(?:the\s+)?new\b"
        ),
    ),
    (
        "investigation_finding",
        _r(
            r"\b(?:review|investigation|analysis|report|audit|inquiry|probe|autopsy|assessment)\b[^.;]{0,200}?\b(?:found|finds|concluded|concludes|showed|shows|determined|did\s+not\s+indicate|does\s+not\s+indicate)\b"
            r"|\bfound\s+no\s+(?:indication|evidence)\b"
        ),
    ),
    (
        "investigation_opened",
        _r(
            r"\b(?:opened|launched|began|started|initiated|announced)\b[^.;]{0,60}?\b(?:investigation|inquiry|probe|review)\b"
            r"|\b(?:is|are|was|were)\s+(?:leading|conducting|running)\s+(?:the|an?)\s+(?:\w+\s+){0,2}(?:review|investigation|inquiry|probe)\b"
            r"|\b(?:is|are|was|were)\s+(?:probing|investigating)\b|\bbegan\s+(?:investigating|probing)\b"
            r"|\bopened\s+(?:a|an)\s+(?:\w+\s+){0,3}(?:investigation|inquiry|case)\b"
        ),
    ),
    (
        "court_order",
        _r(
            r"\b(?:judge|court|justice)\b[^.;]{0,80}?\b(?:ordered|orders|ruled|rules|imposed|blocked|barred|required|enjoined|granted|issued)\b"
            r"|\b(?:imposed|ordered|issued|blocked|required)\s+by\s+(?:a|the)\s+(?:\w+\s+){0,2}(?:judge|court)\b|\b(?:restraining\s+order|injunction)\b"
        ),
    ),
    (
        "legislation",
        _r(
            r"\b(?:bill|legislation|spending\s+bill|funding\s+bill|appropriations?|funding\s+(?:deal|proposal|measure|package))\b"
            r"|\b(?:passed|approved|cleared)\b[^.;]{0,60}?\b(?:house|senate|congress|extension|bill|funding|budget)\b"
            r"|\b(?:house|senate|congress)\b[^.;]{0,40}?\b(?:passed|approved|voted|cleared)\b"
            r"|\bextend\w*\b[^.;]{0,40}\bfunding\b|\bto\s+fund\s+the\b|\blawmakers\s+have\s+yet\s+to\b"
        ),
    ),
    (
        "policy_announced",
        _r(
            r"\b(?:will|would)\s+(?:now\s+)?(?:be\s+)?(?:equipped|issued|given|required|sent|expanded|deployed|rolled\s+out|wear)\b"
            r"|\b(?:will|would)\s+(?:\w+\s+){0,3}(?:deploy|acquire|equip|expand|require)\b"
            r"|\bmust\s+(?:now\s+)?wear\b|\b(?:are|is|were)\s+(?:being\s+)?deploy(?:ing|ed)\b|\bdeploying\b|\broll(?:ed|ing)?\s+out\b"
            r"|\bexpanded\s+nationwide\b|\bexecutive\s+order\b|\bordered\s+that\b|\b(?:issued|signed)\s+(?:an?\s+)?(?:executive\s+)?(?:order|directive|memo)\b"
            r"|\b(?:rescinded|revoked|reversed|repealed)\b|\b(?:announced|unveiled|introduced)\s+(?:a|an|the)\s+(?:new\s+)?(?:policy|program|rule|requirement)\b"
        ),
    ),
    (
        "evidence_released",
        _r(
            r"\b(?:released|made\s+public|published|posted|submitted|handed\s+over)\b[^.;]{0,40}?\b(?:video|videos|footage|records|documents|images|photos|recordings?)\b"
            r"|\b(?:videos?|footage|recordings?)\b[^.;]{0,80}?\b(?:appeared\s+to\s+show|appears\s+to\s+show|shows|showed|show)\b"
        ),
    ),
    ("arrest", _r(r"\b(?:arrested|detained|taken\s+into\s+custody|charged\s+with|indicted)\b")),
    (
        "shooting",
        _r(
            r"\b(?:fatally\s+)?shot\b(?!\s+by\s+(?:bystanders|witnesses|onlookers))|\bopen(?:ed)?\s+fire\b|\bfired\s+(?:shots|on|at|their|his|her)\b|\bhad\s+fired\b|\bgunned\s+down\b"
        ),
    ),
    ("death", _r(r"\b(?:was|were|been)\s+killed\b|\bkilled\b|\bdied\b|\bshot\s+dead\b|\bfound\s+dead\b")),
    ("injury", _r(r"\b(?:injured|wounded|hospitali[sz]ed)\b")),
    (
        "protest",
        _r(
            r"\b(?:protested|rallied|marched|demonstrated)\b|\bprotests?\s+(?:erupted|broke\s+out|spread)\b|\btook\s+to\s+the\s+streets\b"
        ),
    ),
)

# Mid-clause relative and subordinate clauses run to the next comma: their events are background.
_SUBORDINATE = re.compile(
    r"(?<=\w)\s+(?:who|which|whom|whose|when|where|after|before|since|until|while)\b[^,;]*", re.IGNORECASE
)
_RELATIVE = re.compile(r"(?<=\w)\s+(?:who|which|whom|whose)\b[^,;]*", re.IGNORECASE)
_VIDEO_SHOT = re.compile(r"\b(?:videos?|footage|film|photos?)\s+shot\b", re.IGNORECASE)
_NEGATED_RELEASE = re.compile(
    r"\b(?:not|never|yet\s+to|no)\b[^.;]{0,25}\b(?:been\s+)?(?:made\s+public|released|publicly\s+released|published)\b"
    r"|\b(?:not\s+(?:yet\s+)?known|not\s+clear|unclear|unknown)\b",
    re.IGNORECASE,
)


def kind_of(clause: str, attribution: Attribution | None) -> str:
    """One kind of `KINDS` for the clause, given who (if anyone) it is attributed to.

    For an attributed clause pass the text from the reporting verb on ("said every agent ... will
    be given one"): what was said decides, not the titles and appositives before it.
    """
    if attribution is not None and attribution.kind == "finding":
        return "investigation_finding"  # what a review or an analysis found, whatever it found
    text = _VIDEO_SHOT.sub("videos", clause)
    core = _SUBORDINATE.sub("", text)
    if _NEGATED_RELEASE.search(core):
        return "other"
    found = _first_kind(core)
    if found is not None:
        return found
    if attribution is not None:
        if attribution.kind == "finding":
            return "investigation_finding"
        if attribution.kind in ("person", "body", "group", "role", "pronoun"):
            return "official_statement"
    # Unattributed, with nothing in the main clause: a temporal clause may carry the fact ("It is
    # the latest attempt ... after two people were shot dead ..."), a relative clause still does not.
    return _first_kind(_RELATIVE.sub("", text)) or "other"


def _first_kind(text: str) -> str | None:
    for kind, pattern in _RULES:
        if pattern.search(text):
            return kind
    return None
