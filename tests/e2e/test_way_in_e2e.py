"""The way in, end to end through `timeline serve`: the five reports of the corpus are posted one by
one into a store that holds only the incidents, every proposal of each is accepted, and the record
that results is the story told straight: one assertion carried by all five outlets, Noem's weapon
claim disputed by the videos and by CBP's review, Pretti's date refined to Jan 24 by FOX 9.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.support.live import ServerProcess, timeline

pytestmark = pytest.mark.e2e

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus"
REPORTS = [  # (file, outlet) in the order the test posts them
    ("000_09a375e0120fe4a1.txt", "Sky News"),
    ("001_fdc3d33a43bc21cc.txt", "Wire summary"),
    ("002_2b7fe4ef701bf384.txt", "CNN"),
    ("003_8d5be0df748553fc.txt", "The New York Times"),
    ("004_200eef025fd57ead.txt", "FOX 9"),
]
INCIDENTS = {
    "alex-pretti-shooting": (
        "Shooting of Alex Pretti",
        "Alex Pretti, a 37-year-old ICU nurse, was shot and killed by federal immigration officers in Minneapolis.",
    ),
    "renee-good-shooting": (
        "Shooting of Renee Good",
        "Renee Good was shot dead by an ICE agent in her car in Minneapolis.",
    ),
    "dhs-body-camera-policy": (
        "DHS body cameras for officers in Minneapolis",
        "Kristi Noem says every federal immigration officer in Minneapolis will wear a body camera.",
    ),
    "minneapolis-immigration-operation": (
        "Federal immigration enforcement operation in Minneapolis",
        "Thousands of federal agents in the Minneapolis region.",
    ),
}
FALLBACK = "minneapolis-immigration-operation"


@pytest.fixture
def served(database_url):
    env = {"TIMELINE_DATABASE_URL": database_url, "TIMELINE_WEBHOOK_DISPATCHER": "false"}
    key = timeline("keys", "create", "--name", "desk", "--scopes", "write", env=env).stdout.strip().splitlines()[-1]
    server = ServerProcess(env).start()
    try:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as client:
            yield client
    finally:
        server.stop()


def post_report(client: httpx.Client, file: str, outlet: str) -> httpx.Response:
    text = (CORPUS / file).read_text()
    return client.post(
        "/v1/articles",
        json={"outlet": outlet, "published_at": "2026-02-02", "text": text, "url": f"https://reports.example/{file}"},
    )


def accept_all(client: httpx.Client, article: dict) -> list[str]:
    refused = []
    for proposal in article["proposals"]:
        overrides = {} if proposal["incident_id"] else {"incident_id": FALLBACK}
        response = client.post(f"/v1/articles/{article['id']}/proposals/{proposal['id']}/accept", json=overrides)
        if response.status_code != 200:
            refused.append(
                f"{proposal['action']} {proposal['headline'][:60]!r}: {response.status_code} {response.text[:300]}"
            )
    return refused


def entries_of(client: httpx.Client, incident: str) -> list[dict]:
    response = client.get(f"/v1/incidents/{incident}/timeline", params={"history": "true"})
    assert response.status_code == 200, response.text
    return response.json()["entries"]


def test_five_reports_become_one_straight_record(served):
    client = served
    for incident_id, (title, summary) in INCIDENTS.items():
        assert (
            client.post("/v1/incidents", json={"id": incident_id, "title": title, "summary": summary}).status_code
            == 201
        )

    articles = []
    for file, outlet in REPORTS:
        posted = post_report(client, file, outlet)
        assert posted.status_code == 201, posted.text
        article = posted.json()
        assert article["proposals"], f"{outlet}: no proposals"
        assert accept_all(client, article) == [], f"{outlet}: accepts refused"
        articles.append(article)

    pretti = entries_of(client, "alex-pretti-shooting")
    outlets = {outlet for _, outlet in REPORTS}
    carried_by_all = [e for e in pretti if outlets <= {s["outlet"] for s in e["sources"]}]
    assert carried_by_all, "a fact every outlet reports ends as one assertion with five sources"

    weapon = [
        e for e in pretti if "weapon" in (e["text"] or e["headline"]).lower() and "Noem" in (e["attributed_to"] or "")
    ]
    assert weapon, "Noem's weapon claim is recorded"
    by_id = {e["assertion_id"]: e for e in pretti}
    disputing = [by_id[other] for claim in weapon for other in claim["disputed_by"] if other in by_id]
    disputing_text = " ".join(
        f"{e['headline']} {e['attributed_to'] or ''} {e['sources'][0].get('quote') or ''}".lower() for e in disputing
    )
    assert "video" in disputing_text, "the videos dispute the weapon claim"
    assert "customs and border protection" in disputing_text and "brandished" in disputing_text, (
        "CBP's review (no indication he brandished a weapon) disputes the weapon claim"
    )

    shot = [
        e
        for e in pretti
        if e["kind"] in ("shooting", "death") and e["occurred"]["edtf"] == "2026-01-24" and e["revisions"]["count"] >= 1
    ]
    assert shot, "Pretti's date is refined to Jan 24"
    history = shot[0]["revisions"]["history"]
    assert any(h["before"].get("occurred") == "2026-01-21/2026-01-31" for h in history), history
    assert "FOX 9" in history[-1]["reason"]

    head = client.get("/healthz").json()["head_position"]
    again = post_report(client, *REPORTS[2])
    assert again.status_code == 200 and again.json()["id"] == articles[2]["id"]
    assert client.get("/healthz").json()["head_position"] == head, "a re-post changes nothing"
