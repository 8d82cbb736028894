"""Who says so: speakers from reporting verbs and attributions, and the people and bodies named.

`NameBook.of(text, known)` collects the full names a report uses ("Kristi Noem", "Alex Pretti") and
the names the record already holds, so a later "Ms Noem", "Mr. Trump" or "Leavitt" resolves to the
full name. `speaker(clause, book, previous)` reads the attribution of a clause:

- a reporting verb with its subject: "Kristi Noem said", "Ms Noem claimed", "the Department of
  Homeland Security has previously said", "officials said", "Trump said" after a quotation, and
  "Kristi Noem, the homeland security secretary, said" (the appositive is skipped);
- a finding: "CBP's internal investigation found", "A preliminary review by Customs and Border
  Protection's internal watchdog office ... found", "a New York Times analysis ... found";
- "according to DHS", "According to the New York Post report", "ProPublica reported", "CNN reported";
- a pronoun or a bare role ("she added", "the US president said") is the previous speaker.

Titles are normalised away ("Homeland security secretary Kristi Noem" -> "Kristi Noem"), acronyms
become the body's name ("DHS" -> "Department of Homeland Security", "ICE" -> "Immigration and
Customs Enforcement"), outlets their usual name ("The New York Times").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

from events.names import BODIES as _BODIES
from events.names import OUTLETS as _OUTLETS
from events.names import TITLE_WORDS as _TITLE_WORDS
from events.names import canonical_body

__all__ = ["Attribution", "NameBook", "speaker", "speaker_at", "actors", "canonical_body"]

SpeakerKind = Literal["person", "body", "group", "outlet", "finding", "role", "pronoun"]


@dataclass(frozen=True, slots=True)
class Attribution:
    name: str
    kind: SpeakerKind


_PLACE_WORDS = {
    "news",
    "york",
    "times",
    "post",
    "cities",
    "avenue",
    "street",
    "road",
    "house",
    "patrol",
    "security",
    "protection",
    "enforcement",
    "democrats",
    "republicans",
    "department",
    "office",
    "investigations",
    "daily",
    "states",
    "county",
    "city",
    "minneapolis",
    "minnesota",
    "chicago",
    "illinois",
    "maine",
    "orleans",
    "america",
    "american",
    "times’",
    "united",
    "twin",
    "nicollet",
    "congress",
    "senate",
    "court",
    "administration",
}
_SENTENCE_WORDS = {
    "in",
    "on",
    "at",
    "the",
    "a",
    "an",
    "after",
    "before",
    "following",
    "since",
    "as",
    "but",
    "and",
    "however",
    "it",
    "its",
    "this",
    "that",
    "these",
    "those",
    "when",
    "while",
    "for",
    "from",
    "of",
    "to",
    "by",
    "with",
    "both",
    "all",
    "some",
    "one",
    "two",
    "three",
    "four",
    "several",
    "according",
    "over",
    "last",
    "big",
    "what",
    "dig",
    "read",
    "keep",
    "officers",
    "federal",
    "state",
    "local",
    "quick",
    "trump:",
    "back",
    "so",
    "well",
    "effective",
    "make",
    "bodycams",
    "credit",
    "minority",
    "deputy",
    "sec.",
    "republican",
    "senate",
}
_GENERIC_GROUP_WORDS = (
    "officials",
    "official",
    "authorities",
    "lawmakers",
    "investigators",
    "prosecutors",
    "democrats",
    "republicans",
    "leaders",
    "agents",
    "officers",
    "spokesperson",
    "spokesman",
    "spokeswoman",
    "sources",
    "witnesses",
    "advocates",
    "critics",
    "residents",
    "police",
    "aides",
    "people",
)
_ALLOWED_LOWER = {
    "officials",
    "official",
    "federal",
    "state",
    "local",
    "and",
    "of",
    "the",
    "for",
    "homeland",
    "security",
    "secretary",
    "department",
    "press",
    "border",
    "commander",
    "spokesperson",
    "spokesman",
    "spokeswoman",
    "agency",
    "authorities",
    "lawmakers",
    "investigators",
    "prosecutors",
    "police",
    "leaders",
    "member",
    "committee",
    "senator",
    "president",
    "former",
    "deputy",
    "attorney",
    "general",
    "director",
    "chief",
    "administration",
    "senate’s",
    "senate's",
    "top",
    "senior",
    "some",
    "several",
    "two",
    "other",
    "us",
    "u.s.",
    "white",
    "house",
    "republican",
    "democratic",
    "czar",
    "tsar",
    "sec.",
    "mr",
    "mr.",
    "ms",
    "ms.",
    "mrs.",
    "dr.",
    "minority",
    "majority",
    "leader",
    "sen.",
    "rep.",
    "gov.",
    "agents",
    "officers",
    "aides",
}
_FINDING_NOUNS = r"(?:analysis|review|report|investigation|audit|probe|inquiry|assessment|autopsy|findings?)"
_SAY = (
    r"said|says|say|told|tells|announced|announces|declared|declares|claimed|claims|wrote|writes|added|adds|"
    r"insisted|insists|noted|notes|stated|states|argued|argues|confirmed|confirms|testified|explained|"
    r"mentioned|indicated|indicates|warned|warns|acknowledged|acknowledges|reported|reports|tweeted|posted|"
    r"framed|vowed|vows|maintained|maintains|informed|informs|denied|denies|disputed|disputes|alleged|alleges|"
    r"asserted|asserts|shared|voiced|countered|responded|replied|admitted|revealed|disclosed|signaled|"
    r"signalled|suggested|pledged|promised|urged|praised|criticized|criticised|blamed|accused|conceded|"
    r"emphasized|stressed|recalled|contended|cautioned|agreed|objected|questioned|rejected"
)
_FIND = (
    r"found|finds|concluded|concludes|determined|showed|shows|identified|named|did\s+not\s+indicate"
    r"|does\s+not\s+indicate|indicated"
)
_VERB = re.compile(rf"\b(?:(?P<say>{_SAY})|(?P<find>{_FIND}))\b")
_BETWEEN = re.compile(
    r"(?:\s+(?:has|have|had|also|previously|quickly|later|again|repeatedly|publicly|recently|reportedly|then|first|"
    r"initially|separately|further|earlier|long|since|now|already|had\s+earlier|on\s+(?:Monday|Tuesday|Wednesday|"
    r"Thursday|Friday|Saturday|Sunday)|(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)(?:\s+(?:morning|afternoon|evening|night))?|"
    r"last\s+(?:week|month|year)|this\s+week|yesterday|today))+\s*$"
)
_PRONOUNS = {"he", "she", "they", "we", "i"}
_ROLE = re.compile(
    r"^(?:the\s+)?(?:(?:us|u\.s\.|american|former|then)\s+)?(?:president|secretary|senator|governor|mayor|"
    r"congressman|congresswoman|lawmaker|official|spokesperson|spokesman|spokeswoman|judge|director|chief|"
    r"commissioner|commander|leader|minister|attorney general|deputy attorney general|sheriff|prosecutor)$",
    re.IGNORECASE,
)
_TOKEN = re.compile(r"@?[A-Za-z][\w.’'&-]*|\d+")


@dataclass
class NameBook:
    """Full names of people, by surname: the report's own first, then the record's."""

    by_surname: dict[str, str] = field(default_factory=dict)
    full: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, text: str, known: Iterable[str] = ()) -> NameBook:
        book = cls()
        for name in _person_names(text):
            book.add(name)
        for name in known:
            if name and _looks_like_person(name):
                book.add(name, override=False)
        return book

    def add(self, name: str, override: bool = False) -> None:
        parts = name.split()
        if len(parts) < 2:
            return
        self.full.add(name)
        surname = parts[-1].lower()
        if override or surname not in self.by_surname:
            self.by_surname[surname] = name

    def resolve(self, name: str) -> str:
        parts = name.split()
        if len(parts) == 1:
            return self.by_surname.get(parts[0].lower(), name)
        return name


def _looks_like_person(name: str) -> bool:
    parts = name.split()
    if not 2 <= len(parts) <= 4 or canonical_body(name):
        return False
    return all(p[:1].isupper() and p.lower() not in _TITLE_WORDS and p.lower() not in _PLACE_WORDS for p in parts)


_NAME_RUN = re.compile(
    r"(?<![\w’'])((?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]\.)"
    r"(?:[ \t]+(?:[A-Z][a-z]+(?:-[A-Z][a-z]+)?|[A-Z]\.)){1,6})(?![\w])"
)


_COMMON_WORDS = {
    "again",
    "says",
    "say",
    "said",
    "will",
    "wear",
    "body",
    "safe",
    "make",
    "new",
    "more",
    "read",
    "keep",
    "big",
    "picture",
    "view",
    "what",
    "know",
    "deeper",
    "dig",
    "quick",
    "summary",
    "officers",
    "cameras",
    "camera",
    "bodycams",
    "being",
    "deployed",
    "identified",
    "mean",
    "people",
    "lie",
    "the",
    "a",
    "an",
    "and",
    "of",
    "to",
    "is",
    "are",
    "was",
    "were",
    "be",
    "has",
    "have",
    "had",
    "not",
    "no",
    "yes",
    "officer",
    "agents",
}


def _person_names(text: str) -> list[str]:
    lower_words = set(re.findall(r"(?<![\w’'-])[a-z][a-z’'-]*", text))
    names = []
    for found in _NAME_RUN.finditer(text):
        # A run of capitalised words may hold a name among titles and headline words:
        # "Homeland Security Secretary Kristi Noem", "Body Cameras, Noem Says".
        run: list[str] = []
        for part in [*found.group(1).split(), ""]:
            if part and part.lower() not in _COMMON_WORDS:
                run.append(part)
                continue
            names.extend(_name_in(run, lower_words))
            run = []
    return names


def _name_in(parts: list[str], lower_words: set[str]) -> list[str]:
    while parts and (
        parts[0].lower() in _TITLE_WORDS or parts[0].lower() in _SENTENCE_WORDS or parts[0].lower() in _PLACE_WORDS
    ):
        parts = parts[1:]
    while parts and (parts[-1].lower() in _PLACE_WORDS or parts[-1].lower() in _TITLE_WORDS):
        parts = parts[:-1]
    if len(parts) < 2 or not _looks_like_person(" ".join(parts)):
        return []
    if any(p.lower() in lower_words for p in parts[:-1]):
        return []  # a headline in title case, not a name
    return [" ".join(parts)]


# -- speakers -----------------------------------------------------------------------------------


def _quote_mask(text: str) -> list[bool]:
    """True for each character inside quotation marks."""
    mask, inside = [], False
    for char in text:
        if char == "“":
            mask.append(True)
            inside = True
            continue
        if char == "”":
            mask.append(True)
            inside = False
            continue
        if char == '"':
            inside = not inside
            mask.append(True)
            continue
        mask.append(inside)
    return mask


def speaker(clause: str, book: NameBook, previous: Attribution | None = None) -> Attribution | None:
    """The attribution of one clause, or None when the outlet states it as fact."""
    return speaker_at(clause, book, previous)[0]


def speaker_at(clause: str, book: NameBook, previous: Attribution | None = None) -> tuple[Attribution | None, int]:
    """The attribution and where its reporting verb starts in the clause (-1 without one)."""
    according = re.search(r"\b[Aa]ccording\s+to\s+(?P<np>[^,.;]+)", clause)
    if according:
        found = _according(according.group("np"), book)
        if found is not None:
            return found, -1
    mask = _quote_mask(clause)
    for verb in _VERB.finditer(clause):
        if mask[verb.start()]:
            continue
        prefix = clause[: verb.start()]
        found = _subject(prefix, book, previous, finding=verb.group("find") is not None)
        if found is not None:
            if verb.group("find") and found.kind not in ("outlet", "finding", "body", "group"):
                if not (verb.group("find").startswith("identified") and found.kind == "person"):
                    continue
            after = clause[verb.start() :]
            # Where what was said follows the verb ("Noem said every agent ..."), report where it
            # starts; not after a quotation ("..., Noem wrote") nor for a finding ("found that").
            quoted_before = re.search(r"[,.!?…][”\"]\s*[^“”\"]{0,120}$", clause[: verb.start()])
            at = verb.start() if verb.group("say") and len(after.split()) >= 5 and not quoted_before else -1
            return found, at
    reported = re.search(
        rf"\b(?:in|by)\s+an?\s+(?:\w+\s+){{0,3}}?{_FINDING_NOUNS}\s+(?:from|by)\s+(?P<np>[^,.;]+)", clause
    )
    if reported:
        body = _finding_body(reported.group("np"), book)
        if body is not None:
            return body, -1
    return None, -1


def _according(np: str, book: NameBook) -> Attribution | None:
    np = re.sub(r"^(?:the|a|an)\s+", "", np.strip(), flags=re.IGNORECASE)
    np = re.sub(rf"\s+{_FINDING_NOUNS}s?$", "", np, flags=re.IGNORECASE)
    if np.lower() in ("reports", "media reports", "sources", "officials", "one report", "reporting"):
        return Attribution("Officials", "group") if np.lower() == "officials" else None
    return _normalise(np, book, None)


def _subject(prefix: str, book: NameBook, previous: Attribution | None, finding: bool) -> Attribution | None:
    prefix = _BETWEEN.sub("", prefix.rstrip())
    if finding or re.search(rf"\b{_FINDING_NOUNS}\b", prefix[-160:], re.IGNORECASE):
        body = _finding_subject(prefix, book)
        if body is not None:
            return body
    segments = re.split(r",\s*|\s[–—]\s|[“”\"]", prefix)
    last = segments[-1].strip()
    if last:  # the verb follows its subject: "Kristi Noem said", "the US president said"
        np = _trailing_np(last)
        found = _normalise(np, book, previous) if np else None
        if found is not None and found.kind == "role":
            return _previous_person(previous)
        return found
    # The verb follows a comma: "Kristi Noem, the homeland security secretary, said",
    # "Tom Homan, sent to oversee matters after Pretti's death, recently indicated".
    if len(segments) < 3:
        return None
    middle_np = _trailing_np(segments[-2].strip())
    middle = _normalise(middle_np, book, previous) if middle_np else None
    before_np = _trailing_np(segments[-3].strip())
    before = _normalise(before_np, book, previous) if before_np else None
    if before is not None and before.kind != "role":
        return before
    if middle is not None and middle.kind == "role":
        return _previous_person(previous)
    return None


def _previous_person(previous: Attribution | None) -> Attribution | None:
    if previous is not None and previous.kind == "person":
        return previous
    return None


def _trailing_np(segment: str) -> str:
    tokens = _TOKEN.findall(segment)
    if not tokens or not segment.rstrip().endswith(tokens[-1]):
        return ""
    taken: list[str] = []
    for token in reversed(tokens):
        lower = token.lower()
        if token[:1].isupper() or token[:1] == "@" or lower in _ALLOWED_LOWER or lower in _PRONOUNS or token.isdigit():
            if lower in ("and", "of", "the", "for") and not taken:
                break
            taken.append(token)
            if lower in _PRONOUNS:
                break
            continue
        break
    while taken and taken[-1].lower() in ("and", "of", "for"):
        taken.pop()
    np = " ".join(reversed(taken))
    return np


def _finding_subject(prefix: str, book: NameBook) -> Attribution | None:
    """The body behind a review, analysis or report: "CBP's internal investigation", "review by X".

    A news outlet's "report" is the outlet speaking; its "analysis" or "review" is a finding.
    """
    by = re.search(rf"(?P<noun>{_FINDING_NOUNS})\s+(?:by|from)\s+(?P<np>[^,;]+)", prefix, re.IGNORECASE)
    owner = re.search(
        r"(?P<np>(?:[A-Z][\w.&-]*\s+)*(?:[A-Z][\w.&-]*|of|and)(?:\s+(?:[A-Z][\w.&-]*|of|and))*)(?:’s|'s)?\s+"
        r"(?:(?:own|internal|preliminary|initial|new|latest|independent|congressional|watchdog)\s+)*"
        rf"(?P<noun>{_FINDING_NOUNS})\b",
        prefix,
    )
    for match in (by, owner):
        if match is None:
            continue
        found = _finding_body(match.group("np"), book)
        if found is None:
            continue
        if match.group("noun").lower().startswith("report") and found.name in _OUTLETS.values():
            return Attribution(found.name, "outlet")
        return found
    return None


def _finding_body(np: str, book: NameBook) -> Attribution | None:
    np = np.strip()
    np = re.split(r"(?:’s|'s)\b", np)[0]
    np = re.sub(r"^(?:the|a|an)\s+", "", np, flags=re.IGNORECASE)
    run = re.match(r"(?:[A-Z][\w.&-]*)(?:\s+(?:[A-Z][\w.&-]*|of|and|for))*", np)
    if not run:
        return None
    name = run.group(0).strip()
    while name.split() and name.split()[-1] in ("of", "and", "for"):
        name = name.rsplit(" ", 1)[0]
    found = _normalise(name, book, None)
    if found is None:
        return None
    return Attribution(found.name, "finding")


def _normalise(np: str, book: NameBook, previous: Attribution | None) -> Attribution | None:
    np = re.sub(r"\s+", " ", np).strip(" ,.;:")
    np = re.sub(r"^(?:the|a|an)\s+", "", np, flags=re.IGNORECASE)
    if not np:
        return None
    lower = np.lower()
    if lower in _PRONOUNS:
        if previous is not None and previous.kind in ("person", "role") and lower in ("he", "she", "i"):
            return previous
        if previous is not None and lower in ("they", "we"):
            return previous
        return None
    if _ROLE.match(np):
        return Attribution(np, "role")
    body = canonical_body(np)
    if body is not None:
        return Attribution(body, "outlet" if body in _OUTLETS.values() else "body")
    words = np.split()
    if words[-1].lower() in _GENERIC_GROUP_WORDS:
        head = " ".join(words[:-1])
        head_body = canonical_body(head) if head else None
        if head_body:
            return Attribution(f"{head_body} {words[-1]}", "group")
        text = " ".join(_expand(w) for w in words)
        return Attribution(text[:1].upper() + text[1:], "group")
    person = _trailing_person(words)
    if person:
        return Attribution(book.resolve(person), "person")
    if len(words) == 1 and words[0][:1].isupper():
        return Attribution(book.resolve(words[0]), "person" if words[0].lower() not in _TITLE_WORDS else "body")
    if all(w[:1].isupper() or w.lower() in ("of", "and", "for") for w in words):
        return Attribution(np, "body")
    return None


def _expand(word: str) -> str:
    body = _BODIES.get(word.lower()) if word.isupper() else None
    return body or word


def _trailing_person(words: list[str]) -> str | None:
    taken: list[str] = []
    for word in reversed(words):
        clean = word.strip("’'")
        if (
            clean[:1].isupper()
            and clean.lower() not in _TITLE_WORDS
            and clean.lower() not in _PLACE_WORDS
            and not clean.isupper()
        ):
            taken.append(clean)
            continue
        break
    if not taken:
        return None
    return " ".join(reversed(taken))


# -- actors -------------------------------------------------------------------------------------

_ACRONYM = re.compile(r"\b(?:DHS|CBP|ICE|DOJ|FBI|HSI)\b")
_BODY_NAME = re.compile(
    r"\b(?:Department of Homeland Security|Customs and Border Protection|Immigration and Customs Enforcement|"
    r"Department of Justice|Justice Department|Homeland Security Investigations|Border Patrol|White House|"
    r"ProPublica|CNN|New York Times|New York Post)\b"
)
_SURNAME_REF = re.compile(r"\b(?:Mr|Ms|Mrs|Dr|Sec|Sen|Rep|Gov)\.?\s+([A-Z][a-z]+)\b(?!\s+[A-Z])")


def actors(clause: str, book: NameBook) -> tuple[str, ...]:
    """The people and bodies a clause names, as full names, in the order they first appear."""
    found: list[tuple[int, str]] = []
    for name in book.full:
        for match in re.finditer(rf"(?<![\w]){re.escape(name)}(?![\w])", clause):
            found.append((match.start(), name))
    for match in _SURNAME_REF.finditer(clause):
        found.append((match.start(), book.resolve(match.group(1))))
    for surname, name in book.by_surname.items():
        for match in re.finditer(rf"(?<![\w]){re.escape(surname.capitalize())}(?:’s|'s)?(?![\w])", clause):
            found.append((match.start(), name))
    for match in _ACRONYM.finditer(clause):
        found.append((match.start(), _BODIES[match.group(0).lower()]))
    for match in _BODY_NAME.finditer(clause):
        found.append((match.start(), canonical_body(match.group(0)) or match.group(0)))
    ordered: list[str] = []
    for _, name in sorted(found):
        if name not in ordered:
            ordered.append(name)
    return tuple(ordered)
