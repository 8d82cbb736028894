"""Sentences and clauses of a report, as offsets into the text it was given as.

`sentences(text, title)` cuts each paragraph (a line) into sentences with `pysbd` (rule-based, no
model), mends the cuts `pysbd` makes after a title ("Sec. Kristi Noem"), and marks what is not a
fact: headings and tags (no closing punctuation), bylines and credits, promotions ("Listen to ...",
"Read more ..."), a repeated headline, and the "Quick Summary" paragraph that repeats the report.
It also tracks quotation marks, so a sentence inside a quotation opened by an earlier one knows it
is still quoting (and takes that quotation's speaker).

`clauses(text, sentence)` cuts a sentence where news packs two facts into one: a leading
subordinate clause ("After two officers shot and killed Alex Pretti in late January, investigators
began ..."), a coordinate clause after ", while", ", but", "; " or ", and" with a subject of its own,
and a trailing "(just weeks) after ..." / ", following ..." clause. A cut is made only when both
sides have a verb, so lists ("Chicago, Maine and New Orleans") and appositives stay whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

import pysbd

__all__ = ["Sentence", "Clause", "sentences", "clauses", "has_finite_verb"]

ClauseRole = Literal["whole", "main", "leading", "coordinate", "trailing"]


@dataclass(frozen=True, slots=True)
class Sentence:
    start: int
    end: int
    text: str
    paragraph: int
    quoted_from_before: bool  # starts inside a quotation an earlier sentence of the paragraph opened
    skip: str | None  # why it is not a fact (heading, byline, promotion, ...), or None


@dataclass(frozen=True, slots=True)
class Clause:
    start: int
    end: int
    text: str
    role: ClauseRole
    subjectless: bool  # "but did not indicate ...": its subject (and speaker) is the clause before


_TITLE_ABBREVIATIONS = re.compile(
    r"(?:^|\s)(?:Sec|Sen|Rep|Reps|Gov|Gen|Lt|Sgt|Col|Capt|Cmdr|Adm|Dr|Mr|Ms|Mrs|Prof|Rev|St|Supt|Det|Insp|Atty|Dept|No|Gens|Sens|Jr|Sr|Mt|Ft|Pres|Amb|Maj|Cpl|Pvt|Ald|Cllr)\.\s*$"
)
_PROMOTION = re.compile(
    r"^\W*(?:listen to|read more|keep up with|sign up|subscribe|follow us|follow (?:the )?live|download (?:the|our)|"
    r"click here|watch:|watch more|related:|related coverage|advertisement|share this|credit\b|photo\b|image\b|"
    r"copyright|©|all rights reserved|more from|most read|trending|recommended)",
    re.IGNORECASE,
)
_CREDIT = re.compile(
    r"\bcontributed (?:reporting|to this report)\b|\b(?:getty images|ap photo|reuters/)\b|^credit\W", re.IGNORECASE
)
_BYLINE = re.compile(r"^\s*(?:by|written by)\s+\S+", re.IGNORECASE)
_SUMMARY_HEADING = re.compile(
    r"^\W*(?:quick summary|summary|key points|key takeaways|the bottom line|tl;?dr|in brief|at a glance"
    r"|what to know)\W*$",
    re.IGNORECASE,
)
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
_CLOSING = re.compile(r"[.!?…][\"'”’)\]]*\s*$")

_FINITE = re.compile(
    r"\b(?:is|are|was|were|has|have|had|will|would|did|does|do|can|could|may|might|must|shall|should|"
    r"says|said|say|found|finds|told|tells|shot|killed|began|begun|led|made|sent|took|gave|went|came|saw|"
    r"ordered|passed|opened|identified|confirmed|announced|disputed|indicated|claimed|added|wrote|got|"
    r"revoked|rescinded|issued|showed|knew|held|kept|left|met|paid|put|ran|run|set|stood|won|lost)\b"
    r"|\b[a-z]{3,}ed\b",
    re.IGNORECASE,
)
_SUBJECT_START = re.compile(
    r"^\s*(?:[\"“‘]?(?:a|an|the|his|her|their|its|this|that|these|those|some|several|many|most|two|three|four|"
    r"he|she|they|it|we|i|you|one|no|none|officials|federal|state|local)\b|[\"“‘]?[A-Z0-9])"
)


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False)


def has_finite_verb(text: str) -> bool:
    return bool(_FINITE.search(text))


def sentences(text: str, title: str | None = None) -> list[Sentence]:
    """The sentences of every paragraph, in order, with the reason each non-fact is skipped."""
    result: list[Sentence] = []
    title_key = _key(title) if title else None
    first_line_key: str | None = None
    in_summary = False
    for index, (p_start, p_end) in enumerate(_paragraphs(text)):
        paragraph = text[p_start:p_end]
        if first_line_key is None:
            first_line_key = _key(paragraph)
        if _SUMMARY_HEADING.match(paragraph):
            in_summary = True
            result.append(Sentence(p_start, p_end, paragraph, index, False, "heading"))
            continue
        spans = _split_paragraph(paragraph)
        if in_summary and not (len(spans) == 1 and not _CLOSING.search(paragraph)):
            for s, e in spans:
                result.append(Sentence(p_start + s, p_start + e, paragraph[s:e], index, False, "summary"))
            continue
        in_summary = False
        depth = 0
        for s, e in spans:
            piece = paragraph[s:e]
            quoted = depth > 0
            depth = _quote_depth_after(piece, depth)
            skip = _skip_reason(piece, title_key, index, first_line_key)
            if skip == "byline":
                body = _after_byline(piece)
                if body is not None:
                    result.append(Sentence(p_start + s, p_start + s + body, piece[:body], index, False, "byline"))
                    s += body
                    piece = paragraph[s:e]
                    skip = _skip_reason(piece, title_key, index, first_line_key)
            result.append(Sentence(p_start + s, p_start + e, piece, index, quoted, skip))
    return result


def _paragraphs(text: str) -> list[tuple[int, int]]:
    spans = []
    for found in re.finditer(r"[^\n]+", text):
        s, e = found.span()
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            spans.append((s, e))
    return spans


def _split_paragraph(paragraph: str) -> list[tuple[int, int]]:
    pieces = _segmenter().segment(paragraph)
    spans: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        stripped = piece.strip()
        if not stripped:
            continue
        found = paragraph.find(stripped, cursor)
        if found == -1:  # pysbd changed the text: fall back to the whole rest of the paragraph
            spans.append((cursor, len(paragraph.rstrip())))
            cursor = len(paragraph)
            break
        spans.append((found, found + len(stripped)))
        cursor = found + len(stripped)
    if cursor < len(paragraph.rstrip()) and spans and spans[-1][1] < len(paragraph.rstrip()):
        rest = paragraph[cursor:].strip()
        if rest:
            at = paragraph.find(rest, cursor)
            spans.append((at, at + len(rest)))
    merged: list[tuple[int, int]] = []
    for s, e in spans:
        if merged:
            before = paragraph[merged[-1][0] : merged[-1][1]]
            after = paragraph[s:e]
            if _TITLE_ABBREVIATIONS.search(before) or after[:1].islower():
                merged[-1] = (merged[-1][0], e)
                continue
        merged.append((s, e))
    return merged or ([(0, len(paragraph))] if paragraph.strip() else [])


def _quote_depth_after(piece: str, depth: int) -> int:
    """Whether a quotation is open after this piece (curly quotes nest-free; straight ones toggle)."""
    for char in piece:
        if char == "“":
            depth = 1
        elif char == "”":
            depth = 0
        elif char == '"':
            depth = 0 if depth else 1
    return depth


def _key(text: str | None) -> str:
    return re.sub(r"[\W_]+", " ", (text or "").casefold()).strip()


def _skip_reason(piece: str, title_key: str | None, paragraph: int, first_line_key: str | None) -> str | None:
    stripped = piece.strip()
    if not re.search(r"[A-Za-z]", stripped):
        return "empty"
    if _EMOJI.search(stripped):
        return "promotion"
    if _BYLINE.match(stripped):
        return "byline"
    if _CREDIT.search(stripped):
        return "credit"
    if _PROMOTION.match(stripped):
        return "promotion"
    if title_key and _key(stripped) == title_key:
        return "headline"
    if stripped.endswith(":"):
        return "heading"
    if not _CLOSING.search(stripped):
        return "heading"
    if len(re.findall(r"[A-Za-z’'-]+", stripped)) < 4:
        return "fragment"
    if stripped.endswith("?") and not stripped.endswith(("”", '"')):
        return "question"
    return None


def _after_byline(piece: str) -> int | None:
    """Where the text starts in a byline glued to it ("by https://... · NY TimesAll officers ...")."""
    dot = piece.find("·")
    search_from = dot + 1 if dot != -1 else 0
    joined = re.search(r"[a-z](?=[A-Z][a-z])", piece[search_from:])
    if joined is None:
        return None
    start = search_from + joined.end()
    return start if start < len(piece) - 20 else None


# -- clauses ------------------------------------------------------------------------------------

_LEADING = re.compile(
    r"^(?:[A-Z][a-z]+,\s+)?(?:(?:shortly|soon|just|hours|days|weeks|months|not\s+long)\s+)?(?:after|following|since|when|before|once|as\s+soon\s+as)\s",
    re.IGNORECASE,
)
_COORDINATE = re.compile(r",\s+(?:while|whereas)\s+|;\s+(?:while\s+)?|,\s+but\s+|,\s+and\s+(?=\S)")
_TRAILING = re.compile(
    r",\s+following\s+(?=an?\s|the\s)|,\s+(?:especially\s+|particularly\s+|shortly\s+|soon\s+|just\s+)?after\s+(?=\S)"
    r"|\s+(?:just\s+|only\s+)?(?:hours|days|weeks|months|years)\s+(?:after|before)\s+(?=\S)"
)


def clauses(text: str, sentence: Sentence) -> list[Clause]:
    """The facts a sentence packs together, each as a span of the report text."""
    start, end = sentence.start, sentence.end
    spans: list[tuple[int, int, ClauseRole, bool]] = []
    lead = _leading_cut(text, start, end)
    if lead is not None:
        spans.append((start, lead[0], "leading", False))
        start = lead[1]
    body = _coordinate_cuts(text, start, end)
    if lead is not None and body:
        first = body[0]
        body[0] = (first[0], first[1], "main", first[3])
    spans.extend(body)
    final: list[tuple[int, int, ClauseRole, bool]] = []
    for s, e, role, subjectless in spans:
        final.extend(_trailing_cut(text, s, e, role, subjectless))
    if len(final) == 1:
        s, e, _, _ = final[0]
        return [Clause(s, e, text[s:e], "whole", False)]
    return [Clause(s, e, text[s:e], role, subjectless) for s, e, role, subjectless in final]


def _leading_cut(text: str, start: int, end: int) -> tuple[int, int] | None:
    """(end of the leading clause, start of the main clause) when a sentence opens with one."""
    piece = text[start:end]
    if not _LEADING.match(piece):
        return None
    for comma in re.finditer(r",\s+", piece):
        left, right = piece[: comma.start()], piece[comma.end() :]
        if not has_finite_verb(left.split(" ", 1)[-1]):
            return None  # "Following Mr Pretti's death, ...": a phrase, not a clause
        next_comma = right.find(",")
        stretch = right if next_comma == -1 else right[:next_comma]
        if has_finite_verb(stretch) and not _quoted_open(left):
            return start + comma.start(), start + comma.end()
    return None


def _quoted_open(text: str) -> bool:
    return _quote_depth_after(text, 0) > 0


def _coordinate_cuts(text: str, start: int, end: int) -> list[tuple[int, int, ClauseRole, bool]]:
    piece = text[start:end]
    cuts: list[tuple[int, int, bool]] = []
    for found in _COORDINATE.finditer(piece):
        left, right = piece[: found.start()], piece[found.end() :]
        if _quoted_open(left):
            continue
        conjunction = found.group(0).strip(" ,;").lower()
        subject = bool(_SUBJECT_START.match(right))
        stop = re.search(r"[,;]", right)
        stretch = right if stop is None else right[: stop.start()]
        if not has_finite_verb(stretch) and not has_finite_verb(right[:80]):
            continue
        if conjunction == "and" and not (subject and has_finite_verb(stretch)):
            continue
        previous_end = cuts[-1][1] if cuts else 0
        if not has_finite_verb(piece[previous_end : found.start()]):
            continue
        verb_first = not subject and bool(
            re.match(r"\s*(?:did|does|do|had|has|have|was|were|is|are|not|never|also)\b", right)
        )
        cuts.append((found.start(), found.end(), verb_first))
    spans: list[tuple[int, int, ClauseRole, bool]] = []
    cursor, subjectless = 0, False
    for index, (cut_start, cut_end, verb_first) in enumerate(cuts):
        spans.append((start + cursor, start + cut_start, "main" if index == 0 else "coordinate", subjectless))
        cursor, subjectless = cut_end, verb_first
    spans.append((start + cursor, end, "coordinate" if cuts else "main", subjectless))
    return spans


def _trailing_cut(
    text: str, start: int, end: int, role: ClauseRole, subjectless: bool
) -> list[tuple[int, int, ClauseRole, bool]]:
    piece = text[start:end]
    for found in _TRAILING.finditer(piece):
        left, right = piece[: found.start()], piece[found.end() :]
        if _quoted_open(left) or not has_finite_verb(left) or not has_finite_verb(right):
            continue
        if "," in found.group(0) and not _SUBJECT_START.match(right):
            continue
        rest = _trailing_cut(text, start + found.end(), end, "trailing", False)
        return [(start, start + found.start(), role, subjectless), *rest]
    return [(start, end, role, subjectless)]
