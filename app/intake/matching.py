"""Matching a proposed fact against the record: same fact, a sharper date, or a contradiction.

Texts are compared as bags of content words: lowercased, crudely stemmed, with the long names of
bodies written as their acronyms ("Customs and Border Protection" = "cbp"), Twitter handles split
("@RealTomHoman" = "real tom homan"), a few synonym groups folded into one concept (gun, handgun,
firearm, weapon, armed, disarmed = "weapon"; nationwide, across the nation/country = "nation";
funding, funds, resources = "fund"; ...), and names kept apart from common words by case ("Good"
the surname is not "good"). Two measures, each in 0-1, are averaged: an IDF-weighted overlap (half
Dice, half containment, so a short quote inside a long assertion still scores) and rapidfuzz's
`token_set_ratio` over the same words.

Same fact: similarity (times a kind-compatibility factor) at or above `SAME_FACT`, and dates that
overlap. Then `refine` when the new date lies inside the recorded one and is narrower, else
`corroborate`. Dispute: a contradiction cue ("no indication", "did not indicate", "only a", "never",
"disarmed", "disputed", "contradicted", or counts that cannot both hold: "over 30" / "as many as 30")
that the recorded claim does not share, on the same topic (similarity at or above `DISPUTE_TOPIC`),
from another speaker. "that account" / "that claim" point at the report's previous claim.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import fuzz

from app.intake.dates import When

__all__ = [
    "Cues",
    "Doc",
    "Corpus",
    "tokens",
    "similarity",
    "kind_factor",
    "cues",
    "count_bounds",
    "quantity_conflict",
    "SAME_FACT",
    "DISPUTE_TOPIC",
]

SAME_FACT = 0.35
DISPUTE_TOPIC = 0.12

_LONG_NAME_PATTERNS = (
    (r"\bu\.?s\.?\s+", " "),
    (r"\bimmigration and customs enforcement\b", " ICE "),
    (r"\bcustoms and border protection\b", " CBP "),
    (r"\b(?:the\s+)?department of homeland security\b|\bhomeland security department\b", " DHS "),
    (r"\bhomeland security investigations\b", " HSI "),
    (r"\bhomeland security\b", " DHS "),
    (r"\b(?:department of justice|justice department)\b", " DOJ "),
    (r"\bfederal bureau of investigation\b", " FBI "),
    (r"\bacross the (?:nation|country)\b", " nation "),
    (r"\bcell phone\b", " phone "),
    (r"\bbody[- ]worn cameras?\b|\bbody cameras?\b|\bbodycams?\b", " camera "),
    (r"\bopen(?:ed)? fire\b|\bfired (?:shots|upon)\b", " shoot "),
)
_STOP = set(
    """a an the and or but of to in on at by for from with as that this these those it its is are was were be been
    being
    has have had do does did will would could should may might must can shall not no nor so than then there their
    they them he she his her him we our us i you your who whom whose which what when where while after before since
    until about into
    over under also just only very more most some any all every each other such said says say told
    tells according announced declared claimed wrote added noted stated reported however because including including'
    mr ms mrs dr sec secretary president former monday tuesday wednesday thursday friday saturday sunday week month year
    last late early mid earlier recently previously already still yet now today yesterday immediately effective
    new""".split()
)
_CONCEPTS = {
    "weapon": "weapon",
    "gun": "weapon",
    "handgun": "weapon",
    "firearm": "weapon",
    "pistol": "weapon",
    "rifle": "weapon",
    "armed": "weapon",
    "arm": "weapon",
    "disarm": "weapon",
    "disarmed": "weapon",
    "unarmed": "weapon",
    "brandish": "weapon",
    "phone": "phone",
    "cellphone": "phone",
    "mobile": "phone",
    "camera": "camera",
    "cam": "camera",
    "footage": "footage",
    "video": "footage",
    "recording": "footage",
    "record": "record",
    "shot": "shoot",
    "shoot": "shoot",
    "shooting": "shoot",
    "fire": "shoot",
    "fired": "shoot",
    "gunfire": "shoot",
    "kill": "kill",
    "killed": "kill",
    "dead": "kill",
    "death": "kill",
    "fatal": "kill",
    "fatally": "kill",
    "die": "kill",
    "died": "kill",
    "nationwide": "nation",
    "nation": "nation",
    "national": "nation",
    "country": "nation",
    "countrywide": "nation",
    "funding": "fund",
    "fund": "fund",
    "funds": "fund",
    "resource": "fund",
    "money": "fund",
    "officer": "officer",
    "agent": "officer",
    "enforcer": "officer",
    "personnel": "officer",
    "trooper": "officer",
    "deploy": "deploy",
    "equip": "deploy",
    "equipped": "deploy",
    "issue": "deploy",
    "issued": "deploy",
    "give": "deploy",
    "given": "deploy",
    "sent": "deploy",
    "send": "deploy",
    "roll": "deploy",
    "wear": "deploy",
    "outfit": "deploy",
    "investigation": "investigation",
    "investigat": "investigation",
    "probe": "investigation",
    "inquiry": "investigation",
    "review": "investigation",
    "reviewing": "investigation",
    "order": "order",
    "directive": "order",
    "requirement": "order",
    "mandate": "order",
    "revoke": "revoke",
    "revoked": "revoke",
    "rescind": "revoke",
    "rescinded": "revoke",
    "repeal": "revoke",
    "initiative": "program",
    "program": "program",
    "programme": "program",
    "measure": "program",
    "policy": "program",
    "release": "release",
    "released": "release",
    "public": "release",
    "publicly": "release",
    "publish": "release",
    "published": "release",
    "film": "film",
    "filmed": "film",
    "filming": "film",
    "recorded": "film",
    "pass": "pass",
    "passed": "pass",
    "cleared": "pass",
    "approved": "pass",
    "clear": "pass",
    "stationed": "deploy",
    "station": "deploy",
    "deployed": "deploy",
    "acquire": "deploy",
    "resources": "fund",
    "approval": "favor",
    "favour": "favor",
    "favor": "favor",
    "endorse": "favor",
    "support": "favor",
    "director": "head",
    "commissioner": "head",
    "leader": "head",
    "chief": "head",
}
_COMMON_CAPITALISED = {
    "however",
    "but",
    "and",
    "the",
    "a",
    "an",
    "in",
    "on",
    "after",
    "before",
    "it",
    "its",
    "this",
    "that",
    "some",
    "several",
    "both",
    "all",
    "one",
    "two",
    "officials",
    "federal",
    "state",
    "body",
    "officers",
    "agents",
    "lawmakers",
    "democrats",
    "republicans",
    "last",
    "late",
    "over",
    "big",
    "according",
    "as",
    "so",
    "well",
    "since",
    "following",
    "effective",
    "back",
    "shortly",
    "advocates",
    "meanwhile",
    "still",
    "yet",
    "also",
    "earlier",
    "later",
    "then",
    "now",
    "here",
    "there",
    "these",
    "those",
    "such",
    "many",
    "most",
    "each",
    "every",
    "no",
    "not",
    "only",
    "just",
    "even",
    "what",
    "while",
    "when",
    "where",
    "why",
    "how",
    "if",
    "once",
    "because",
    "although",
    "though",
    "despite",
    "during",
    "for",
    "with",
    "without",
    "about",
    "among",
    "between",
    "through",
    "under",
    "until",
    "upon",
    "within",
    "including",
    "citing",
    "asked",
    "critics",
    "supporters",
    "police",
    "investigators",
    "prosecutors",
    "authorities",
    "witnesses",
}


_LONG_NAMES = tuple((re.compile(pattern, re.IGNORECASE), replacement) for pattern, replacement in _LONG_NAME_PATTERNS)
_HANDLE = re.compile(r"@([A-Za-z0-9_]+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'.-]*[A-Za-z0-9]|[A-Za-z0-9]|[.!?;:]")
_POSSESSIVE = re.compile(r"'s$")
_NOT = re.compile(r"n't\b", re.IGNORECASE)


def _stem(word: str) -> str:
    for suffix, keep in (("ings", 4), ("ing", 4), ("ies", 3), ("ied", 3), ("ed", 4), ("es", 4), ("s", 3)):
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            stem = word[: -len(suffix)]
            if suffix in ("ies", "ied"):
                stem += "y"
            return stem
    return word


def tokens(text: str) -> list[str]:
    """Content words of a text, as the matching compares them."""
    return list(_tokens(text))


@lru_cache(maxsize=16384)  # the record's quotes come back with every report
def _tokens(text: str) -> tuple[str, ...]:
    text = _HANDLE.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)) + " ", text)
    text = text.replace("’", "'").replace("‘", "'")
    text = _NOT.sub(" not", text)
    for pattern, replacement in _LONG_NAMES:
        text = pattern.sub(replacement, text)
    result: list[str] = []
    sentence_start = True
    for match in _WORD.finditer(text):
        raw = match.group(0)
        if raw in ".!?;:":
            sentence_start = True
            continue
        raw = _POSSESSIVE.sub("", raw).strip(".'-")
        if not raw:
            continue
        lower = raw.lower()
        was_start, sentence_start = sentence_start, False
        if lower in _STOP or len(lower) < 2 and not lower.isdigit():
            continue
        concept = _CONCEPTS.get(lower) or _CONCEPTS.get(_stem(lower)) or _CONCEPTS.get(lower.rstrip("s"))
        if concept:
            result.append(concept)
            continue
        name_like = raw[:1].isupper() and (
            not was_start or (lower not in _COMMON_CAPITALISED and not lower.endswith("ly"))
        )
        if raw.isupper() and len(raw) > 1:
            name_like = True
        word = lower if name_like else _stem(lower)
        result.append("^" + word if name_like else word)
    return tuple(result)


@dataclass(frozen=True, slots=True)
class Cues:
    strong: bool  # a contradiction cue: "no indication", "did not indicate", "only a", "disarmed", ...
    scope: frozenset[str]  # the words the cue bears on: the cue and the dozen words after it
    anaphoric: bool  # "that account", "the claim": the claim just before
    earlier_claimant: str | None  # "as Ms. Noem had earlier claimed" -> "Ms. Noem"


@dataclass(frozen=True, slots=True)
class Doc:
    """Something a proposal can match: an assertion of the record or an earlier proposal of the report."""

    key: str
    incident_id: str | None
    kind: str
    speaker: str | None
    when: When | None
    texts: tuple[str, ...]
    bags: tuple[frozenset[str], ...]
    outlets: tuple[str, ...]
    cues: tuple[Cues, ...]
    bounds: tuple[tuple[frozenset[int], frozenset[int]], ...]  # the upper and lower bounds of counts, per text
    is_proposal: bool = False


class Corpus:
    """Inverse document frequencies over everything being compared in one `propose` call."""

    def __init__(self, documents: Iterable[Iterable[str]]):
        counts: Counter[str] = Counter()
        total = 0
        for bag in documents:
            counts.update(set(bag))
            total += 1
        self.total = max(total, 1)
        self._idf = {word: math.log(1 + self.total / (1 + n)) for word, n in counts.items()}
        self._unseen = math.log(1 + self.total)
        self._weights: dict[frozenset[str], float] = {}

    def idf(self, word: str) -> float:
        return self._idf.get(word, self._unseen)

    def weight(self, bag: Iterable[str]) -> float:
        if isinstance(bag, frozenset):
            known = self._weights.get(bag)
            if known is None:
                known = self._weights[bag] = self._sum(bag)
            return known
        return self._sum(bag)

    def _sum(self, bag: Iterable[str]) -> float:
        idf, unseen = self._idf, self._unseen
        return sum(idf.get(w, unseen) for w in bag)


@lru_cache(maxsize=16384)
def _joined(bag: frozenset[str]) -> str:
    return " ".join(sorted(bag))


def similarity(a: frozenset[str], b: frozenset[str], corpus: Corpus) -> float:
    if not a or not b:
        return 0.0
    shared = a & b
    if not shared:
        return 0.0
    wa, wb, ws = corpus.weight(a), corpus.weight(b), corpus._sum(shared)
    overlap = 0.5 * (2 * ws / (wa + wb)) + 0.5 * (ws / min(wa, wb))
    if overlap < 0.1:
        return 0.5 * overlap  # the fuzzy half counts only with some overlap (see below)
    fuzzy = fuzz.token_set_ratio(_joined(a), _joined(b)) / 100
    return 0.5 * overlap + 0.5 * fuzzy * min(1.0, overlap * 2)


_FAMILIES = (
    {"shooting", "death", "injury"},
    {"official_statement", "investigation_finding"},
    {"investigation_opened", "investigation_finding"},
    {"legislation", "policy_announced"},
    {"other", "evidence_released"},
    {"policy_announced", "official_statement"},
)


def kind_factor(a: str, b: str) -> float:
    if a == b:
        return 1.0
    if any(a in family and b in family for family in _FAMILIES):
        return 0.85
    if {a, b} & _HARM_KINDS and {a, b} & {"other", "official_statement"}:
        return 0.3  # a killing (or a removal) is no statement and no aside, whatever words they share
    if "other" in (a, b) or "official_statement" in (a, b):
        return 0.7
    return 0.35


_HARM_KINDS = {"shooting", "death", "injury", "personnel_change", "officer_leave", "arrest"}


_STRONG_CUES = re.compile(
    r"\bno\s+indication\b|\bno\s+evidence\b|\bdid\s+not\s+indicate\b|\bdoes\s+not\s+indicate\b|\bdisarm\w*|\bunarmed\b|"
    r"\bonly\s+(?:a|an)\b|\bnever\b|\bcontradict\w*|\bdisputed?\b|\bdisputes\b|\bdenied\b|\bdenies\b|\brefut\w+|\brebut\w*|"
    r"\bfalse(?:ly)?\b|\buntrue\b|\bnot\s+true\b|\bas\s+(?:\S+\s+){1,4}had\s+(?:earlier\s+|previously\s+)?(?:claimed|said|alleged)\b|"
    r"\bmisfired\b",
    re.IGNORECASE,
)
_ANAPHORIC_CLAIM = re.compile(
    r"\b(?:that|the|this|their|his|her|its)\s+(?:account|claim|assertion|statement|version|characteri[sz]ation|narrative|description)\b",
    re.IGNORECASE,
)
_EARLIER_CLAIM = re.compile(
    r"\bas\s+(?P<who>(?:\S+\s+){0,3}?\S+)\s+had\s+(?:earlier\s+|previously\s+)?(?:claimed|said|alleged|asserted)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=16384)
def cues(text: str) -> Cues:
    earlier = _EARLIER_CLAIM.search(text)
    strong = _STRONG_CUES.search(text)
    scope: frozenset[str] = frozenset()
    if strong:
        after = " ".join(text[strong.start() :].split()[:14])
        scope = frozenset(tokens(after))
    return Cues(
        strong=bool(strong),
        scope=scope,
        anaphoric=bool(_ANAPHORIC_CLAIM.search(text)),
        earlier_claimant=earlier.group("who") if earlier else None,
    )


_UPPER_BOUND = re.compile(
    r"\b(?:as\s+many\s+as|up\s+to|at\s+most|no\s+more\s+than|fewer\s+than|less\s+than|under)\s+(\d[\d,]*)",
    re.IGNORECASE,
)
_LOWER_BOUND = re.compile(
    r"\b(?:over|more\s+than|at\s+least|upwards\s+of|in\s+excess\s+of)\s+(\d[\d,]*)", re.IGNORECASE
)


@lru_cache(maxsize=16384)
def count_bounds(text: str) -> tuple[frozenset[int], frozenset[int]]:
    """The counts a text bounds from above ("as many as 30") and from below ("over 30")."""

    def numbers(pattern: re.Pattern) -> frozenset[int]:
        return frozenset(int(m.group(1).replace(",", "")) for m in pattern.finditer(text))

    return numbers(_UPPER_BOUND), numbers(_LOWER_BOUND)


def quantity_conflict(
    new: tuple[frozenset[int], frozenset[int]], old: Sequence[tuple[frozenset[int], frozenset[int]]]
) -> bool:
    """Counts that cannot both hold: "as many as 30" against "over 30" (or the other way round)."""
    new_upper, new_lower = new
    if not new_upper and not new_lower:
        return False
    for old_upper, old_lower in old:
        if any(u <= low for u in new_upper for low in old_lower) or any(
            u <= low for u in old_upper for low in new_lower
        ):
            return True
    return False
