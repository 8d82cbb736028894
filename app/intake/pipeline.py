"""From a news report to proposals: the dated facts it states, matched against the record.

`propose(report, incidents, assertions)` is pure: text and the record's current assertions in,
proposals out, in text order. For each clause that states a fact (see `sentences`):

1. its date phrases (`dates.find_dates`, against the publication day) and the one it is recorded
   with: the first calendar phrase of the clause; for the main clause after a leading "After ...,"
   clause with a date D, from D to the publication day; with none, `[..published]` (on or before
   the day it was reported, so it is never placed after it); a reported clause with a date of its
   own ("CBP informed Congressional leaders last week that two agents had fired shots ... on
   Saturday, Jan. 24") becomes a second proposal with that date;
2. its speaker (`speakers`), kind (`kinds`), actors and a headline;
3. its incident: the best match among the record's incidents (names weigh most), else the
   incident of the fact before it;
4. its action against the assertions of that incident and the incidents linked to it (all of them
   when no incident matched), see `matching`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from app.intake.dates import DatePhrase, When, find_dates, on_or_before, read_edtf, span_when
from app.intake.kinds import kind_of
from app.intake.matching import (
    DISPUTE_TOPIC,
    SAME_FACT,
    Corpus,
    Doc,
    count_bounds,
    cues,
    kind_factor,
    quantity_conflict,
    similarity,
    tokens,
)
from app.intake.model import Action, KnownAssertion, KnownIncident, Proposal, Report
from app.intake.sentences import Clause, Sentence, clauses, sentences
from app.intake.speakers import Attribution, NameBook, actors, speaker_at

__all__ = ["propose"]

INCIDENT_MIN = 0.12


@dataclass(frozen=True, slots=True)
class _Draft:
    start: int
    end: int
    quote: str
    dates: tuple[DatePhrase, ...]
    occurred: When
    kind: str
    attribution: Attribution | None
    actors: tuple[str, ...]
    headline: str
    bag: frozenset[str]


def propose(report: Report, incidents: Sequence[KnownIncident], assertions: Sequence[KnownAssertion]) -> list[Proposal]:
    """The proposals for one report, in the order of the text."""
    text = report.text
    published = _day(report.published)
    known_names = [a.attributed_to for a in assertions if a.attributed_to]
    book = NameBook.of(text, known_names)
    phrases = find_dates(text, published)
    drafts = _drafts(text, report.title, published, phrases, book)
    docs = [_doc_of(a) for a in assertions if a.status != "retracted"]
    profiles = {i.incident_id: _profile(i, [d for d in docs if d.incident_id == i.incident_id]) for i in incidents}
    corpus = Corpus(
        [
            *(bag for doc in docs for bag in doc.bags),
            *(draft.bag for draft in drafts),
            *(bag for title, summary, _ in profiles.values() for bag in (*title, *summary)),
        ]
    )
    groups = _incident_groups(incidents)
    proposals: list[Proposal] = []
    earlier: list[tuple[Proposal, Doc]] = []
    previous_incident: str | None = None
    for draft in drafts:
        incident = _incident_of(draft, profiles, corpus) or previous_incident
        previous_incident = incident
        candidates = [d for d in docs if incident is None or d.incident_id in groups.get(incident, {incident})]
        action, target, target_proposal, score, reason = _decide(
            draft, incident, candidates, earlier, corpus, report.outlet
        )
        proposal = Proposal(
            id=_proposal_id(draft),
            quote=draft.quote,
            start=draft.start,
            end=draft.end,
            dates=draft.dates,
            occurred=draft.occurred,
            kind=draft.kind,
            headline=draft.headline,
            attributed_to=draft.attribution.name if draft.attribution else None,
            actors=draft.actors,
            incident_id=incident,
            action=action,
            target_assertion_id=target,
            target_proposal_id=target_proposal,
            score=round(score, 3),
            reason=reason,
        )
        proposals.append(proposal)
        earlier.append((proposal, _doc_of_draft(proposal, draft, report.outlet)))
    return proposals


def _day(published: date | datetime) -> date:
    return published.date() if isinstance(published, datetime) else published


def _proposal_id(draft: _Draft) -> str:
    digest = hashlib.sha1(f"{draft.start}:{draft.end}:{draft.quote}".encode()).hexdigest()[:12]
    return f"p{draft.start}-{digest}"


# -- drafts: the facts of the text --------------------------------------------------------------

_REPORTING_THAT = re.compile(
    r"\b(?:informed|told|notified|said|says|announced|confirmed|reported|found|wrote|testified|disclosed|revealed)\b[^.;]{0,60}?\bthat\s+",
)


def _drafts(text: str, title: str | None, published: date, phrases: list[DatePhrase], book: NameBook) -> list[_Draft]:
    drafts: list[_Draft] = []
    previous: Attribution | None = None
    for sentence in sentences(text, title):
        if sentence.skip:
            continue
        parts = clauses(text, sentence)
        sentence_speaker: Attribution | None = None
        leading_when: tuple[str, When] | None = None
        for clause in parts:
            if len(re.findall(r"[A-Za-z’'-]+", clause.text)) < 3:
                continue
            attribution, verb_at = _attribution(clause, sentence, parts, sentence_speaker, previous, book)
            if attribution is not None:
                sentence_speaker = attribution
                previous = attribution
            in_clause = tuple(p for p in phrases if clause.start <= p.start and p.end <= clause.end)
            occurred = _occurred(clause, in_clause, leading_when, published)
            if clause.role == "leading":
                first = in_clause[0].when if in_clause else None
                connector = re.match(
                    r"\W*(?:[A-Z][a-z]+,\s+)?(?:\w+\s+)?(after|following|since|before|when|once)\b",
                    clause.text,
                    re.IGNORECASE,
                )
                if first is not None and connector:
                    leading_when = (connector.group(1).lower(), first)
            reported = _reported_clause(text, clause, in_clause)
            kind_start = clause.start + verb_at if verb_at >= 0 else clause.start
            kind_text = text[kind_start : reported.start] if reported else text[kind_start : clause.end]
            kind = kind_of(kind_text, attribution)
            drafts.append(_draft(text, clause.start, clause.end, in_clause, occurred, kind, attribution, book))
            if reported is not None:
                inner = tuple(p for p in in_clause if p.start >= reported.start)
                inner_kind = kind_of(reported.text, None)
                drafts.append(
                    _draft(text, reported.start, reported.end, inner, inner[0].when, inner_kind, attribution, book)
                )
    return drafts


def _attribution(
    clause: Clause,
    sentence: Sentence,
    parts: list[Clause],
    sentence_speaker: Attribution | None,
    previous: Attribution | None,
    book: NameBook,
) -> tuple[Attribution | None, int]:
    if clause.subjectless and sentence_speaker is not None:
        return sentence_speaker, -1
    found, verb_at = speaker_at(clause.text, book, previous)
    if found is not None:
        return found, verb_at
    quoting = sentence.quoted_from_before or sentence.text.lstrip().startswith(("“", '"'))
    if quoting and clause is parts[0] and previous is not None and previous.kind in ("person", "body", "group"):
        return previous, -1  # a quotation that goes on from the speaker before
    return None, -1


def _occurred(
    clause: Clause, in_clause: tuple[DatePhrase, ...], leading: tuple[str, When] | None, published: date
) -> When:
    own = [p for p in in_clause if leading is None or clause.role != "main" or p.when != leading[1]]
    if own:
        return own[0].when
    if leading is not None and clause.role == "main":
        connector, when = leading
        if connector in ("after", "following", "since", "once") and when.earliest <= published:
            return span_when(when.earliest, published)
        if connector == "before":
            return When(f"[..{when.latest.isoformat()}]", date.min, when.latest, f"on or before {when.display}", "set")
        if connector == "when":
            return when
    return on_or_before(published)


def _reported_clause(text: str, clause: Clause, in_clause: tuple[DatePhrase, ...]) -> Clause | None:
    """The "that ..." clause a reporting verb introduces, when it carries a date of its own."""
    if len(in_clause) < 2:
        return None
    found = _REPORTING_THAT.search(text, clause.start, clause.end)
    if found is None:
        return None
    before = [p for p in in_clause if p.end <= found.end()]
    after = [p for p in in_clause if p.start >= found.end()]
    if not before or not after or after[0].when == before[0].when:
        return None
    start, end = found.end(), clause.end
    return Clause(start, end, text[start:end], "trailing", False)


def _draft(
    text: str,
    start: int,
    end: int,
    dates: tuple[DatePhrase, ...],
    occurred: When,
    kind: str,
    attribution: Attribution | None,
    book: NameBook,
) -> _Draft:
    quote = text[start:end]
    named = actors(quote, book)
    return _Draft(
        start=start,
        end=end,
        quote=quote,
        dates=dates,
        occurred=occurred,
        kind=kind,
        attribution=attribution,
        actors=named,
        headline=_headline(quote, attribution, dates),
        bag=frozenset(tokens(quote)),
    )


_CONNECTOR = re.compile(
    r"^(?:however|but|and|also|so|meanwhile|for instance|for example|in addition|still|yet|instead|indeed|moreover|"
    r"separately|earlier|later|then|thus)\s*,?\s+",
    re.IGNORECASE,
)


def _headline(quote: str, attribution: Attribution | None, dates: tuple[DatePhrase, ...]) -> str:
    """A short, clean sentence for the fact: connectors, a leading date and outer quotes removed."""
    text = re.sub(r"\s+", " ", quote).strip()
    text = _CONNECTOR.sub("", text)
    for phrase in dates:
        if text.startswith(phrase.phrase):
            rest = text[len(phrase.phrase) :]
            if rest.startswith(","):
                text = rest[1:].strip()
            break
    text = _CONNECTOR.sub("", text)
    text = re.sub(r"^according to [^,]+,\s*", "", text, flags=re.IGNORECASE)
    if attribution is not None and attribution.kind == "person":
        text = re.sub(r"^(?:She|He)\b", attribution.name, text)
    stripped = text.strip('“”"')
    if stripped != text and attribution is not None and "“" not in stripped and "”" not in stripped:
        text = f"{attribution.name}: {stripped}"
    text = text.rstrip(" .;,:")
    if len(text) > 140:
        cut = text[:140].rsplit(" ", 1)[0].rstrip(",;:")
        text = cut + "…"
    return text[:1].upper() + text[1:] if text else quote.strip()


# -- the record as documents --------------------------------------------------------------------


def _doc_of(assertion: KnownAssertion) -> Doc:
    texts = tuple(t for t in (assertion.headline, assertion.text, *assertion.quotes) if t)
    return Doc(
        key=assertion.assertion_id,
        incident_id=assertion.incident_id,
        kind=assertion.kind,
        speaker=assertion.attributed_to,
        when=read_edtf(assertion.occurred),
        texts=texts,
        bags=tuple(frozenset(tokens(t)) for t in texts),
        outlets=assertion.outlets,
        cues=tuple(cues(t) for t in texts),
        bounds=tuple(count_bounds(t) for t in texts),
    )


def _doc_of_draft(proposal: Proposal, draft: _Draft, outlet: str) -> Doc:
    return Doc(
        key=proposal.id,
        incident_id=proposal.incident_id,
        kind=proposal.kind,
        speaker=proposal.attributed_to,
        when=proposal.occurred,
        texts=(proposal.quote,),
        bags=(draft.bag,),
        outlets=(outlet,),
        cues=(cues(proposal.quote),),
        bounds=(count_bounds(proposal.quote),),
        is_proposal=True,
    )


def _profile(incident: KnownIncident, docs: list[Doc]) -> tuple[tuple[frozenset[str], ...], ...]:
    """Title, summary and each assertion's words of an incident."""
    title = frozenset(tokens(incident.title or ""))
    summary = frozenset(tokens(incident.summary or ""))
    return ((title,), (summary,), tuple(bag for d in docs for bag in d.bags))


def _incident_groups(incidents: Sequence[KnownIncident]) -> dict[str, set[str]]:
    groups = {i.incident_id: {i.incident_id, *i.linked} for i in incidents}
    for incident in incidents:
        for other in incident.linked:
            groups.setdefault(other, {other}).add(incident.incident_id)
    return groups


def _incident_of(
    draft: _Draft, profiles: dict[str, tuple[tuple[frozenset[str], ...], ...]], corpus: Corpus
) -> str | None:
    """The incident whose title, summary and closest assertion share most with the fact; names weigh double."""
    if not profiles or not draft.bag:
        return None
    names = {w for w in draft.bag if w.startswith("^")}
    weight = corpus.weight(draft.bag) + corpus.weight(names) or 1.0
    best: tuple[float, str] | None = None
    for incident_id, (title, summary, assertions) in profiles.items():
        score = 0.0
        for bags, factor in ((title, 1.0), (summary, 0.5), (assertions, 1.0)):
            shares = [corpus.weight(draft.bag & bag) + corpus.weight(names & bag) for bag in bags]
            score += factor * max(shares, default=0.0) / weight
        if best is None or score > best[0]:
            best = (score, incident_id)
    if best is None or best[0] < INCIDENT_MIN:
        return None
    return best[1]


# -- the decision -------------------------------------------------------------------------------


_HARM = {"shooting", "death", "injury"}


def _same_speaker(a: str | None, b: str | None) -> bool:
    """ "Department of Homeland Security officials" speak for the Department of Homeland Security."""
    if not a or not b:
        return False
    return _speaking_for(a) == _speaking_for(b)


def _speaking_for(name: str) -> str:
    return re.sub(r"\s+(?:officials?|spokesperson|spokesman|spokeswoman)$", "", name.lower())


def _same_score(draft: _Draft, doc: Doc, corpus: Corpus, incident: str | None) -> float:
    if doc.when is not None and not draft.occurred.overlaps(doc.when):
        return 0.0
    best = max((similarity(draft.bag, bag, corpus) for bag in doc.bags), default=0.0)
    score = best * kind_factor(draft.kind, doc.kind)
    if _same_speaker(draft.attribution.name if draft.attribution else None, doc.speaker):
        score = min(1.0, score * 1.15)
    if draft.kind in _HARM and doc.kind in _HARM and incident is not None and doc.incident_id == incident:
        # The harm an incident is about: a shooting in the Pretti incident is Pretti's shooting,
        # even where the clause does not name him ("two agents had fired shots ... on Jan. 24").
        score = max(score, SAME_FACT + 0.5 * best)
    return score


def _topic_score(draft: _Draft, doc: Doc, corpus: Corpus) -> float:
    return max((similarity(draft.bag, bag, corpus) for bag in doc.bags), default=0.0)


_CLAIM_KINDS = {"official_statement", "investigation_finding", "other", "evidence_released"}


def _decide(
    draft: _Draft,
    incident: str | None,
    candidates: list[Doc],
    earlier: list[tuple[Proposal, Doc]],
    corpus: Corpus,
    outlet: str,
) -> tuple[Action, str | None, str | None, float, str]:
    said = cues(draft.quote)
    mine = draft.attribution.name if draft.attribution else None
    # 1. a contradiction of a recorded claim, or of one made earlier in this report
    dispute = _dispute_target(draft, said, mine, candidates, earlier, corpus)
    if dispute is not None:
        doc, score, note = dispute
        if doc.is_proposal:
            return "dispute", None, doc.key, score, note
        return "dispute", doc.key, None, score, note
    # 2. the same fact, from another report
    scored = sorted(((_same_score(draft, d, corpus, incident), d) for d in candidates), key=lambda x: -x[0])
    if scored and scored[0][0] >= SAME_FACT:
        score, doc = scored[0]
        if doc.when is not None and doc.when.contains(draft.occurred) and draft.occurred.days < doc.when.days:
            reason = f"{outlet} dates it {draft.occurred.display}, within the recorded {doc.when.display}"
            phrase = next((p.phrase for p in draft.dates if p.edtf == draft.occurred.edtf), None)
            if phrase:
                reason = (
                    f"{outlet} gives {draft.occurred.display} (\u201c{phrase}\u201d),"
                    f" within the recorded {doc.when.display}"
                )
            return "refine", doc.key, None, score, reason
        return "corroborate", doc.key, None, score, f"the same fact as {doc.key}, now also from {outlet}"
    best = scored[0][0] if scored else 0.0
    return "record", None, None, 1.0 - best, "no recorded assertion states this fact"


def _dispute_target(
    draft: _Draft,
    said,
    mine: str | None,
    candidates: list[Doc],
    earlier: list[tuple[Proposal, Doc]],
    corpus: Corpus,
) -> tuple[Doc, float, str] | None:
    earlier_docs = [doc for _, doc in earlier]
    if said.anaphoric and said.strong and earlier:
        # "State and local officials quickly disputed that account": the claim just before it
        for proposal, doc in reversed(earlier[-3:]):
            if proposal.attributed_to and proposal.attributed_to != mine or proposal.kind in ("official_statement",):
                target = _recorded_for(proposal, candidates) or doc
                return target, 0.9, f"disputes the account just before it ({proposal.attributed_to or 'as reported'})"
    pool = [d for d in [*candidates, *earlier_docs] if not _same_speaker(d.speaker, mine)]
    best: tuple[float, Doc, str] | None = None
    bounds = count_bounds(draft.quote)
    scope_weight = corpus.weight(said.scope) or 1.0
    for doc in pool:
        conflict = quantity_conflict(bounds, doc.bounds)
        if not conflict and not said.strong:
            continue
        topic = _topic_score(draft, doc, corpus)
        if conflict and topic >= DISPUTE_TOPIC:
            score, note = 0.5 + topic / 2, "the counts cannot both hold"
        elif said.strong and doc.kind in _CLAIM_KINDS and (doc.speaker or doc.kind == "official_statement"):
            if any(c.strong for c in doc.cues) or topic < DISPUTE_TOPIC:
                continue
            # What the cue bears on ("disarmed", "brandished a weapon") must be what the claim says.
            bearing = max(corpus.weight(said.scope & bag) for bag in doc.bags) / scope_weight
            score = topic + 0.4 * bearing + (0.1 if doc.kind == "official_statement" else 0.0)
            note = "contradicts the claim"
            if (
                said.earlier_claimant
                and doc.speaker
                and doc.speaker.split()[-1].lower() in said.earlier_claimant.lower()
            ):
                score += 0.3
                note = f"contradicts {doc.speaker}'s claim"
            score = min(score, 1.0)
        else:
            continue
        if best is None or score > best[0]:
            best = (score, doc, note)
    if best is None:
        return None
    return best[1], best[0], best[2]


def _recorded_for(proposal: Proposal, candidates: list[Doc]) -> Doc | None:
    """The recorded assertion an earlier proposal of the report attaches to, if it does."""
    if proposal.action in ("corroborate", "refine") and proposal.target_assertion_id:
        return next((d for d in candidates if d.key == proposal.target_assertion_id), None)
    return None
