"""The projector's memory of folded incidents: least recently used dropped first, within a budget of assertions."""

from app.projections.index.projector import FoldedIncidents, IncidentCursor


def cursor(assertions: int) -> IncidentCursor:
    return IncidentCursor({"assertions": {f"a-{n}": {} for n in range(assertions)}, "version": 1}, {})


def test_the_least_recently_kept_go_first_once_the_budget_is_passed():
    kept = FoldedIncidents(budget=10)
    kept.keep("a", cursor(3))  # weighs 4 (the incident, and its assertions)
    kept.keep("b", cursor(3))
    kept.keep("a", cursor(3))  # used again: b is now the oldest
    assert len(kept) == 2
    kept.keep("c", cursor(1))  # 4 + 4 + 2 = 10: within the budget
    assert len(kept) == 3
    kept.keep("d", cursor(0))  # 11: b goes
    assert kept.get("b") is None and kept.get("a") is not None and kept.get("d") is not None


def test_an_incident_kept_again_is_weighed_as_it_is_now():
    kept = FoldedIncidents(budget=10)
    kept.keep("a", cursor(8))
    kept.keep("a", cursor(2))  # smaller now: 3, not 9 + 3
    kept.keep("b", cursor(6))  # 3 + 7 = 10
    assert kept.get("a") is not None and kept.get("b") is not None


def test_an_incident_heavier_than_the_budget_is_not_kept():
    kept = FoldedIncidents(budget=5)
    kept.keep("a", cursor(2))
    kept.keep("huge", cursor(50))
    assert len(kept) == 0
    kept.clear()
    kept.keep("b", cursor(1))
    assert len(kept) == 1
