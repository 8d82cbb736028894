"""Articles: a report is stored as received, its proposals kept, and decisions turn them into events."""

from __future__ import annotations

from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
SKY = (CORPUS / "000_09a375e0120fe4a1.txt").read_text()
REPORT = {"outlet": "Sky News", "url": "https://news.sky.com/story/bodycams", "published_at": "2026-02-02", "text": SKY}


@pytest.fixture
def posted(client, writer, incident) -> dict:
    response = client.post("/v1/articles", json={**REPORT, "incident_id": incident}, headers=writer)
    assert response.status_code == 201, response.text
    return response.json()


def first_with(article: dict, action: str = "record") -> dict:
    return next(p for p in article["proposals"] if p["action"] == action)


def test_a_report_is_stored_as_received_with_its_proposals(client, posted):
    assert posted["text"] == SKY and posted["published_at"] == "2026-02-02" and posted["outlet"] == "Sky News"
    assert posted["proposals"], "a report of dated facts gets proposals"
    for proposal in posted["proposals"]:
        assert SKY[proposal["start"] : proposal["end"]] == proposal["quote"]
        assert proposal["action"] in {"record", "corroborate", "dispute", "refine"}
        assert proposal["occurred"]["edtf"] and proposal["decision"] == {"status": "pending"}
        for found in proposal["dates"]:
            assert SKY[found["start"] : found["end"]] == found["phrase"]
    again = client.get(f"/v1/articles/{posted['id']}")
    assert again.status_code == 200 and again.json() == posted
    listed = client.get("/v1/articles", params={"outlet": "sky news"}).json()["articles"]
    assert [a["id"] for a in listed] == [posted["id"]] and "text" not in listed[0]


def test_the_same_report_again_is_the_stored_article_not_a_copy(client, writer, posted, store):
    head = store.head_position()
    response = client.post("/v1/articles", json={**REPORT, "incident_id": "alex-pretti-shooting"}, headers=writer)
    assert response.status_code == 200
    assert response.json() == posted
    assert len(client.get("/v1/articles").json()["articles"]) == 1
    assert store.head_position() == head


def test_an_accept_appends_the_proposal_as_ordinary_events_once(client, writer, posted, store, incident):
    proposal = first_with(posted)
    url = f"/v1/articles/{posted['id']}/proposals/{proposal['id']}/accept"
    accepted = client.post(url, headers=writer)
    assert accepted.status_code == 200, accepted.text
    body = accepted.json()
    assert body["decision"]["status"] == "accepted" and body["incident_id"] == incident
    [event] = store.read_all(after_position=body["positions"][0] - 1, limit=1)
    assert event.type == "AssertionRecorded"
    assert event.data["headline"] == proposal["headline"] and event.data["occurred"] == proposal["occurred"]["edtf"]
    assert event.data["sources"] == [
        {"outlet": "Sky News", "url": REPORT["url"], "published_at": "2026-02-02", "quote": proposal["quote"]}
    ]
    assert event.metadata["article_id"] == posted["id"] and event.metadata["proposal_id"] == proposal["id"]
    assert event.published.text() == "2026-02-02"

    head = store.head_position()
    repeat = client.post(url, headers=writer)
    assert repeat.status_code == 200 and repeat.json()["positions"] == body["positions"] and repeat.json()["replayed"]
    assert store.head_position() == head, "a repeat appends nothing"
    shown = client.get(f"/v1/articles/{posted['id']}").json()
    decided = next(p for p in shown["proposals"] if p["id"] == proposal["id"])
    assert (
        decided["decision"]["status"] == "accepted" and decided["decision"]["result"]["positions"] == body["positions"]
    )


def test_an_edited_accept_records_the_editors_version(client, writer, posted, store):
    proposal = first_with(posted)
    edits = {"headline": "Edited headline", "occurred": "2026-01-24", "kind": "official_statement"}
    response = client.post(f"/v1/articles/{posted['id']}/proposals/{proposal['id']}/accept", json=edits, headers=writer)
    assert response.status_code == 200, response.text
    event = store.read_all(after_position=response.json()["positions"][0] - 1, limit=1)[0]
    assert {k: event.data[k] for k in edits} == edits
    again = client.post(
        f"/v1/articles/{posted['id']}/proposals/{proposal['id']}/accept", json={"headline": "Other"}, headers=writer
    )
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")


def test_a_reject_is_kept_with_its_reason(client, writer, posted, store):
    proposal = posted["proposals"][-1]
    head = store.head_position()
    url = f"/v1/articles/{posted['id']}/proposals/{proposal['id']}"
    rejected = client.post(f"{url}/reject", json={"reason": "not a fact about this incident"}, headers=writer)
    assert rejected.status_code == 200 and rejected.json()["decision"]["reason"] == "not a fact about this incident"
    assert store.head_position() == head
    assert client.post(f"{url}/accept", headers=writer).status_code == 409
    shown = next(p for p in client.get(f"/v1/articles/{posted['id']}").json()["proposals"] if p["id"] == proposal["id"])
    assert shown["decision"]["status"] == "rejected"


@pytest.mark.parametrize(
    ("body", "status", "mention"),
    [
        ({**REPORT, "published_at": "Feb 2"}, 422, "published_at"),
        ({**REPORT, "text": ""}, 422, "text"),
        ({k: v for k, v in REPORT.items() if k != "outlet"}, 422, "outlet"),
        ({**REPORT, "incident_id": "no-such-incident"}, 422, "no-such-incident"),
        ({**REPORT, "text": "a\u0000b"}, 422, "text"),
    ],
)
def test_a_bad_report_is_a_clear_problem_and_stores_nothing(client, writer, incident, body, status, mention):
    response = client.post("/v1/articles", json=body, headers=writer)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert mention in response.text
    assert client.get("/v1/articles").json()["articles"] == []


def test_decisions_need_a_writer_and_a_real_proposal(client, writer, reader, posted):
    proposal = first_with(posted)
    url = f"/v1/articles/{posted['id']}/proposals/{proposal['id']}/accept"
    assert client.post(url).status_code == 401
    assert client.post(url, headers=reader).status_code == 403
    assert client.post(f"/v1/articles/{posted['id']}/proposals/nope/accept", headers=writer).status_code == 404
    assert client.post(f"/v1/articles/nope/proposals/{proposal['id']}/accept", headers=writer).status_code == 404
    assert client.get("/v1/articles/nope").status_code == 404
    assert client.post(url, json={"action": "guess"}, headers=writer).status_code == 422
