"""The way in: from a news report to proposed dated assertions (pure: no I/O, no clock, no database).

    from app.intake import Report, KnownIncident, KnownAssertion, propose
    proposals = propose(Report(outlet="FOX 9", text=text, published=date(2026, 2, 2)), incidents, assertions)

Modules: `dates` (date phrases -> EDTF), `sentences` (sentences and clauses as offsets), `speakers`
(attribution, names), `kinds` (the kind vocabulary by rules), `matching` (similarity, contradiction
cues), `pipeline` (propose: the pipeline), `model` (the frozen values that cross the boundary).
"""

from app.intake.dates import DatePhrase, When, find_dates, on_or_before, read_edtf
from app.intake.kinds import KINDS, kind_of
from app.intake.model import ACTIONS, Action, KnownAssertion, KnownIncident, Proposal, Report
from app.intake.pipeline import propose

__all__ = [
    "ACTIONS",
    "Action",
    "DatePhrase",
    "KINDS",
    "KnownAssertion",
    "KnownIncident",
    "Proposal",
    "Report",
    "When",
    "find_dates",
    "kind_of",
    "on_or_before",
    "propose",
    "read_edtf",
]
