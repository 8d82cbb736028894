"""Every command in README.md, run as a newcomer runs it, on a fresh `make run`.

The test runs the real `make run` (migrate, import the samples, create the demo key, serve) with the
database in a temporary directory and the server on a free port, then reads the ```sh blocks out of
README.md itself (tests/support/readme.py), so an edit to the README is what gets tested. It types
each block's commands, in order, into one bash (`set -euo pipefail`; curl wrapped so an HTTP error
fails), in the checkout, the way a reader copies them into a terminal: variables carry from one
command to the next, and a block marked `# in another terminal` runs in a terminal of its own (the
webhook receiver), which keeps going. Only what the README tells the reader to fill in is filled
in: the port (`localhost:8000`, the receiver's `9000`), the key `make run` printed (`tl_...`) and
the secret the subscription printed (`whsec_...`).

What each command prints is checked against what the README says it does: EXPECTATIONS below has
one check per command that prints something (a command the table does not know fails the test, and
so does a check that matches no command), and every JSON answer that lists entries, events,
proposals, deliveries or assertions must list some. The README's examples use curl and jq; without
them this test is skipped, saying so.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.live import REPO, free_port, wait_until_healthy
from tests.support.readme import Block, Command, CommandFailed, Terminal, sh_blocks

pytestmark = pytest.mark.e2e

README = REPO / "README.md"
RECEIVER_PORT = "9000"  # the README's receiver port, replaced by a free one
NONEMPTY = ("entries", "events", "proposals", "deliveries", "assertions")
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TOOLS = ("bash", "make", "curl", "jq")


# -- `make run`, as it is ---------------------------------------------------------------------


@dataclass
class Demo:
    """A running `make run`: its server, the key it printed, and everything it printed."""

    url: str
    port: int
    key: str
    env: dict[str, str] = field(repr=False)
    process: subprocess.Popen = field(repr=False)
    lines: list[str] = field(default_factory=list, repr=False)

    def printed(self) -> str:
        return "".join(self.lines)


def reader_env(database_url: str) -> dict[str, str]:
    """A newcomer's environment: no TIMELINE_* settings of the test run's own, no enclosing make."""
    env = {name: value for name, value in os.environ.items() if not name.startswith(("TIMELINE_", "MAKE", "MFLAGS"))}
    env["TIMELINE_DATABASE_URL"] = database_url  # what `make run` defaults to, in the temp dir
    return env


@pytest.fixture
def demo(tmp_path) -> Demo:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(
            f"the README's examples need {', '.join(TOOLS)}; {', '.join(missing)} not installed "
            "(e.g. apt-get install -y curl jq make)"
        )
    if subprocess.run(["curl", "--fail-with-body", "--version"], capture_output=True).returncode != 0:
        pytest.skip("this curl has no --fail-with-body (curl 7.76 or newer), which the test needs to see HTTP errors")
    venv = Path(sys.prefix)
    if not (venv / "bin" / "timeline").exists():
        pytest.fail(f"{venv}/bin/timeline is missing: install the package (make install) first")
    port = free_port()
    env = reader_env(f"sqlite:///{tmp_path / 'timeline.db'}")
    # `-o install`: the virtualenv is this one, already installed; everything else is `make run`.
    process = subprocess.Popen(
        ["make", "--no-print-directory", "-o", "install", "run", f"PORT={port}", f"VENV={venv}"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    made = Demo(f"http://127.0.0.1:{port}", port, "", env, process)
    ready = threading.Event()

    def read() -> None:  # drain make's output (the server logs every request) for as long as it runs
        assert process.stdout is not None
        for raw in iter(process.stdout.readline, b""):
            made.lines.append(raw.decode("utf-8", errors="replace"))
            if made.lines[-1].startswith("Serving on"):
                ready.set()
        ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(120) and process.poll() is None, f"make run stopped:\n{made.printed()}"
        keys = [line.strip() for line in made.lines if re.fullmatch(r"tl_\S+", line.strip())]
        assert len(keys) == 1, f"make run printed {len(keys)} keys:\n{made.printed()}"
        made.key = keys[0]
        wait_until_healthy(made.url, timeout=60, process=process)
        yield made
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)  # make and the server it started, by their group
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
        reader.join(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


# -- what a run of one command can be checked with --------------------------------------------


@dataclass
class Ran:
    command: Command
    typed: str  # the command as typed, placeholders filled in
    output: str
    terminal: Terminal
    world: "World" = field(repr=False)

    def json(self) -> Any:
        values = json_values(self.output)
        assert len(values) == 1, f"expected one JSON value, got {len(values)}:\n{self.output[:2000]}"
        return values[0]

    def stream(self) -> list[Any]:
        values = json_values(self.output)
        assert values, f"expected JSON, got:\n{self.output[:2000]}"
        return values

    def variable(self, name: str) -> str:
        return self.terminal.variable(name)


@dataclass
class World:
    demo: Demo
    receiver_port: int
    api: httpx.Client = field(repr=False)
    secret: str | None = None
    receiver: Terminal | None = field(default=None, repr=False)
    notes: dict[str, Any] = field(default_factory=dict, repr=False)

    def receiver_waits_for(self, condition: Callable[[str], bool], what: str) -> str:
        assert self.receiver is not None, "the README starts no receiver before this command"
        return self.receiver.wait_for(condition, what)


def json_values(text: str) -> list[Any]:
    """The JSON values printed one after another (as `jq` prints a stream), or [] if it is not JSON."""
    decoder = json.JSONDecoder()
    values, index, text = [], 0, text.strip()
    while index < len(text):
        try:
            value, index = decoder.raw_decode(text, index)
        except json.JSONDecodeError:
            return []
        values.append(value)
        while index < len(text) and text[index].isspace():
            index += 1
    return values


def verified_lines(printed: str) -> list[str]:
    return [line for line in printed.splitlines() if line.startswith("verified ")]


def city_hall_fire_events(world: World) -> list[dict]:
    response = world.api.get("/v1/incidents/city-hall-fire/events", params={"after_version": 0, "limit": 100})
    assert response.status_code == 200, response.text
    return response.json()["events"]


# -- the README's promises, one check per command ---------------------------------------------


def admin_key_made(ran: Ran) -> None:
    assert ran.variable("ADMIN").startswith("tl_"), ran.output


def private_person_named(ran: Ran) -> None:
    assert isinstance(ran.json(), int), ran.output
    stored = ran.world.api.get("/v1/incidents/city-hall-fire/timeline").text
    assert "Dana Whitfield" in stored, "read as written while her key exists"


def person_erased(ran: Ran) -> None:
    erased = ran.json()
    assert list(erased["incidents"]) == ["city-hall-fire"] and erased["recorded"]["city-hall-fire"] > 0, erased


def erased_in_the_timeline(ran: Ran) -> None:
    assert ran.output.strip() == "A neighbour, [erased], saw smoke at 11 p.m.", ran.output
    everything = ran.world.api.get("/v1/events", params={"limit": 1000}).text
    assert "Dana Whitfield" not in everything


def verifier_key_saved(ran: Ran) -> None:
    name, key_hash, key = ran.output.strip().split("+", 2)
    assert name == "incident-timeline.localhost/log" and re.fullmatch(r"[0-9a-f]{8}", key_hash), ran.output
    assert Path("/tmp/timeline-log.pub").read_text() == ran.output
    ran.world.notes["verifier_key"] = ran.output


def checkpoint_saved(ran: Ran) -> None:
    origin, size, root, blank, signature, end = ran.output.split("\n")
    assert origin == "incident-timeline.localhost/log" and int(size) >= 145 and len(root) == 44, ran.output
    assert blank == "" and end == "" and signature.startswith("\u2014 incident-timeline.localhost/log ")
    from app.proofs.notes import Checkpoint, Verifier

    opened = Checkpoint.parse(Verifier.decode(ran.world.notes["verifier_key"].strip()).open(ran.output))
    ran.world.notes["checkpoint_size"] = opened.size


def first_event_proved(ran: Ran) -> None:
    proof = ran.json()
    size = ran.world.notes["checkpoint_size"]
    assert proof == {"leaf_index": 0, "tree_size": size, "steps": (size - 1).bit_length()}, proof


def export_verified(ran: Ran) -> None:
    size = ran.world.notes["checkpoint_size"]
    assert f"verified: {size} events, 1 checkpoint(s), signatures good" in ran.output, ran.output


def service_watched(ran: Ran) -> None:
    found = re.search(r"checkpoint at tree size (\d+): signature good \(the first one seen\)", ran.output)
    assert found and int(found.group(1)) >= ran.world.notes["checkpoint_size"], ran.output


def proposals(ran: Ran) -> None:
    article = ran.json()
    assert UUID.match(article["id"]) and article["id"] == ran.variable("ARTICLE")
    [proposal] = article["proposals"]  # "one proposal"
    assert proposal["action"] == "corroborate"
    assert proposal["target_assertion_id"] == "noem-announces-minneapolis-body-cameras"
    assert proposal["when"] == "Feb 2, 2026"
    assert proposal["attributed_to"] == "Kristi Noem"
    assert proposal["speaker_actor_id"] == "kristi-noem"
    assert proposal["kind"] == "policy_announced"


def proposal_id(ran: Ran) -> None:
    assert ran.variable("PROPOSAL").startswith("p"), ran.variable("PROPOSAL")


def accepted(ran: Ran) -> None:
    result = ran.json()
    assert result["decision"]["status"] == "accepted"
    assert result["incident_id"] == "dhs-body-camera-policy"
    assert isinstance(result["version"], int) and result["positions"]
    ran.world.notes["accepted_positions"] = result["positions"]


def received_at(ran: Ran) -> None:
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", ran.variable("RECEIVED")), ran.variable("RECEIVED")


def outlets_then(ran: Ran) -> None:
    then = ran.json()
    assert then == ["CNN", "FOX 9", "The New York Times", "Unattributed wire summary", "Sky News"]
    ran.world.notes["outlets_then"] = then


def outlets_now(ran: Ran) -> None:
    assert ran.json() == [*ran.world.notes["outlets_then"], "Springfield Courier"]


def incident_opened(ran: Ran) -> None:
    opened = ran.json()
    assert opened["id"] == "city-hall-fire" and opened["version"] == 1


def appended_with_expected_version(ran: Ran) -> None:
    assert ran.json()["version"] == 2  # expected_version 1 held: nothing came in between


def raw_stream(ran: Ran) -> None:
    events = ran.json()["events"]
    assert [(e["version"], e["type"]) for e in events] == [(1, "IncidentOpened"), (2, "AssertionRecorded")]
    assert events[1]["reported_at"] == "2026-02-02T09:00:00Z"


def global_log(ran: Ran) -> None:
    events = ran.json()["events"]
    assert [e["position"] for e in events] == list(range(1, 101))  # the first page of the log


def entries_listed(ran: Ran) -> None:
    listed = ran.stream()
    assert len(listed) >= 10
    first = listed[0]
    assert first["assertion_id"] == "pretti-shot" and first["when"] == "Jan 24, 2026"
    assert any(entry["disputed_by"] for entry in listed), "disputed claims show what disputes them"


def filtered_by_kind(ran: Ran) -> None:
    entries = ran.json()["entries"]
    assert entries and {e["kind"] for e in entries} == {"official_statement"}


def overlapping(ran: Ran) -> None:
    entries = ran.json()["entries"]
    assert all(e["occurred"]["earliest"] <= "2026-02-01" and e["occurred"]["latest"] >= "2026-01-26" for e in entries)
    assert any(e["occurred"]["precision"] != "day" for e in entries), "vague dates overlap too"


def at_version_5(ran: Ran) -> None:
    timeline = ran.json()
    assert timeline["version"] == 5 and timeline["cut_off"]["as_of_version"] == 5


def as_of_now(ran: Ran) -> None:
    timeline = ran.json()
    now = ran.world.api.get("/v1/incidents/alex-pretti-shooting/timeline").json()
    assert timeline["cut_off"]["as_of"], timeline["cut_off"]
    assert timeline["version"] == now["version"] and timeline["entries"] == now["entries"]


def reported_by_feb_2(ran: Ran) -> None:
    timeline = ran.json()
    assert timeline["cut_off"]["reported_as_of"].startswith("2026-02-02T23:59:59")
    assert all(e["first_reported_at"] <= "2026-02-02" for e in timeline["entries"])


def revisions(ran: Ran) -> None:
    shown = ran.stream()
    assert all(r["count"] > 0 and r["history"][0]["before"] and r["history"][0]["after"] for r in shown)


def changes(ran: Ran) -> None:
    changed = ran.json()
    assert changed["since"]["version"] == 5 and changed["added"]


def etag(ran: Ran) -> None:
    tag = ran.variable("ETAG")
    assert re.fullmatch(r'"[0-9a-f]+"', tag), f"no ETag from HEAD: {tag!r}"
    head = ran.world.api.head("/v1/incidents/alex-pretti-shooting/timeline")
    get = ran.world.api.get("/v1/incidents/alex-pretti-shooting/timeline")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == get.headers["etag"] == tag
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers["content-length"] == str(len(get.content))
    schema = ran.world.api.get("/openapi.json").json()["paths"]["/v1/incidents/{incident_id}/timeline"]
    assert set(schema) == {"get"}, "HEAD is served, not documented twice"


def not_modified(ran: Ran) -> None:
    assert ran.output.strip() == "304"


def across_incidents(ran: Ran) -> None:
    found = ran.json()
    assert found["total"] == len(found["assertions"]) > 0
    assert all("noem" in a["attributed_to"].lower() for a in found["assertions"])
    assert len({a["incident_id"] for a in found["assertions"]}) > 1


def first_page(ran: Ran) -> None:
    page = ran.json()
    assert page["position"] > 0 and page["total"] > 5 and page["next_cursor"], page
    assert page["first"], page


def next_cursor(ran: Ran) -> None:
    assert re.fullmatch(r"[A-Za-z0-9_-]+", ran.variable("NEXT")), ran.variable("NEXT")


def next_five(ran: Ran) -> None:
    ids = ran.json()
    first = ran.world.api.get("/v1/assertions", params={"kind": "official_statement", "limit": 5}).json()
    assert ids and not set(ids) & {a["assertion_id"] for a in first["assertions"]}, "the next page, not the first again"


def at_position_60(ran: Ran) -> None:
    then = ran.json()
    now = ran.world.api.get("/v1/assertions", params={"outlet": "CNN"}).json()
    assert then["position"] == 60 and 0 < then["total"] <= now["total"], (then, now["total"])


def newest_reports_first(ran: Ran) -> None:
    from app.projections.index.query import first_reported_key

    shown = ran.json()
    assert len(shown) == 3 and all(entry["headline"] for entry in shown), shown
    keys = [first_reported_key(entry) for entry in shown]
    assert keys == sorted(keys, reverse=True), keys


def changed_since_60(ran: Ran) -> None:
    changes = ran.json()
    assert changes["since"]["position"] == 60
    assert changes["added"] or changes["changed"], changes


def said_by_the_department(ran: Ran) -> None:
    names = ran.json()
    assert len(names) >= 2 and "DHS officials" in names, names


def searched(ran: Ran) -> None:
    found = ran.json()
    assert found and all(entry["headline"] for entry in found), found
    incidents = {entry["incident_id"] for entry in found}
    assert {"dhs-body-camera-policy"} <= incidents, incidents


def disputed_within(ran: Ran) -> None:
    total = ran.json()
    overlapping = ran.world.api.get(
        "/v1/assertions",
        params={"disputed": "true", "occurred_from": "2026-01-24", "occurred_to": "2026-01-31"},
    ).json()["total"]
    assert isinstance(total, int) and 0 < total <= overlapping, (total, overlapping)


def csv_export(ran: Ran) -> None:
    headers = dict(line.split(":", 1) for line in ran.output.strip().splitlines())
    headers = {name.strip().lower(): value.strip() for name, value in headers.items()}
    assert int(headers["timeline-position"]) > 0 and headers["content-digest"].startswith("sha-256=:"), headers


def index_caught_up(ran: Ran) -> None:
    index = ran.json()
    assert index["lag"] == 0 and index["position"] > 0, index


def metrics_scraped(ran: Ran) -> None:
    figures = dict(line.split(" ", 1) for line in ran.output.strip().splitlines())
    health = ran.world.api.get("/healthz").json()
    assert float(figures["timeline_head_position"]) == health["head_position"] > 0, figures
    assert float(figures["timeline_projector_lag"]) >= 0 and float(figures["timeline_webhook_queue_depth"]) >= 0
    assert 0 <= float(figures["timeline_log_tree_lag"]) <= health["head_position"], figures


def timelinejs(ran: Ran) -> None:
    exported = ran.json()
    assert exported["title"]["text"]["headline"] and exported["events"]


def subscribed(ran: Ran) -> None:
    assert UUID.match(ran.variable("ID"))


def subscription_shown(ran: Ran) -> None:
    shown = ran.json()
    assert shown["status"] == "active" and shown["secret"].startswith("whsec_")
    assert shown["url"] == f"http://127.0.0.1:{ran.world.receiver_port}/hook"
    assert shown["id"] == ran.variable("ID")


def receiver_listening(ran: Ran) -> None:
    ran.world.receiver = ran.terminal
    ran.world.receiver_waits_for(
        lambda printed: f"listening on http://127.0.0.1:{ran.world.receiver_port} " in printed,
        "the receiver to listen",
    )


def delivered(ran: Ran) -> None:
    assert ran.json()["version"] == 3
    event = city_hall_fire_events(ran.world)[-1]
    ran.world.notes["delivered_event"] = event
    line = (
        f"verified {event['event_id']}: org.incident-timeline.AssertionRecorded.v{event['schema_version']} "
        f"about city-hall-fire (version 3, position {event['position']})"
    )
    printed = ran.world.receiver_waits_for(lambda printed: line in printed, "the delivery to be printed")
    cloudevent = json_values(printed[printed.index(line) + len(line) :])
    assert cloudevent and cloudevent[0]["data"]["assertion_id"] == "fire-contained", printed


def wait_for_the_recorded_attempt(world: World) -> None:
    """A reader looks at the log after seeing the delivery; the attempt is recorded just after."""
    subscription = world.api.get("/v1/subscriptions").json()["subscriptions"][0]["id"]
    deadline = time.monotonic() + 30
    while not world.api.get(f"/v1/subscriptions/{subscription}/deliveries").json()["deliveries"]:
        assert time.monotonic() < deadline, "the delivery was never recorded"
        time.sleep(0.05)


def delivery_log(ran: Ran) -> None:
    [attempt] = ran.stream()  # "one attempt"
    event = ran.world.notes["delivered_event"]
    assert attempt["status_code"] == 204 and attempt["attempt"] == 1
    assert (attempt["event_id"], attempt["position"]) == (event["event_id"], event["position"])


def replayed(ran: Ran) -> None:
    assert ran.json()["queued"] == 3
    ids = [event["event_id"] for event in city_hall_fire_events(ran.world)]
    printed = ran.world.receiver_waits_for(lambda printed: len(verified_lines(printed)) == 4, "the replay")
    again = [line.split()[1].rstrip(":") for line in verified_lines(printed)[1:]]
    assert again == ids, "the incident's events again, in order, with the webhook-id each had"


def rotated(ran: Ran) -> None:
    rotation = ran.json()
    assert rotation["secret"].startswith("whsec_") and rotation["secret"] != ran.world.notes["first_secret"]
    assert rotation["previous_secret_expires_at"]


def actors_found(ran: Ran) -> None:
    [noem] = ran.stream()
    assert noem == {"id": "kristi-noem", "name": "Kristi Noem", "aliases": ["Noem", "DHS Secretary Kristi Noem"]}


def merged_actor_shown(ran: Ran) -> None:
    assert ran.json() == {"id": "department-of-homeland-security", "merged_actor_ids": ["dhs-officials"]}


def pretti_speakers(ran: Ran) -> None:
    assert ran.json() == [
        ["Kristi Noem", "kristi-noem"],
        ["DHS officials", "department-of-homeland-security"],
        ["DHS", "department-of-homeland-security"],
    ]


def fire_department_registered(ran: Ran) -> None:
    written = ran.json()
    assert written["actor"]["id"] == "springfield-fire-department" and len(written["positions"]) == 1
    assert ran.world.api.get("/v1/actors/springfield-fire-department").json() == written["actor"]


def fire_department_aliased(ran: Ran) -> None:
    assert ran.json()["actor"]["aliases"] == ["Fire department"]


def fire_speakers(ran: Ran) -> None:
    assert ran.json() == [["Fire department", "springfield-fire-department"]]


def duplicate_registered(ran: Ran) -> None:
    assert ran.json()["actor"]["names"] == ["SFD"]


def duplicate_merged(ran: Ran) -> None:
    merged = ran.json()
    assert merged == {
        "id": "springfield-fire-department",
        "names": ["Springfield Fire Department", "Fire department", "SFD"],
        "merged_actor_ids": ["sfd"],
    }
    assert ran.world.api.get("/v1/actors/sfd").json()["id"] == "springfield-fire-department"


@dataclass(frozen=True)
class Expect:
    pattern: str  # searched for in the command as the README writes it
    check: Callable[[Ran], None]
    before: Callable[[World], None] | None = None


EXPECTATIONS = [
    # Add a news report
    Expect(r"^ARTICLE=\$\(curl -s -X POST localhost:8000/v1/articles ", lambda ran: None),
    Expect(r"^curl -s localhost:8000/v1/articles/\$ARTICLE \\", proposals),
    Expect(r"^PROPOSAL=", proposal_id),
    Expect(r"/proposals/\$PROPOSAL/accept", accepted),
    Expect(r"^RECEIVED=", received_at),
    Expect(r'^curl -s "\$D\?as_of=\$RECEIVED"', outlets_then),
    Expect(r"^curl -s \$D \| jq", outlets_now),
    # The API by example
    Expect(r"^curl -s -X POST localhost:8000/v1/incidents -H", incident_opened),
    Expect(r"Idempotency-Key: desk-2026-02-02-001", appended_with_expected_version),
    Expect(r"city-hall-fire/events\?after_version=0", raw_stream),
    Expect(r"/v1/events\?after_position=0", global_log),
    # Timelines from the sample incidents
    Expect(r"^curl -s \$T \| jq '\.entries\[\]", entries_listed),
    Expect(r"T\?kind=official_statement", filtered_by_kind),
    Expect(r"occurred_from=2026-01-26", overlapping),
    Expect(r"as_of_version=5", at_version_5),
    Expect(r'"\$T\?as_of=', as_of_now),
    Expect(r"\?reported_as_of=2026-02-02", reported_by_feb_2),
    Expect(r"history=true", revisions),
    Expect(r"/changes\?since=5", changes),
    Expect(r"^ETAG=\$\(curl -sI", etag),
    Expect(r"If-None-Match: \$ETAG", not_modified),
    Expect(r"/v1/assertions\?attributed_to=noem", across_incidents),
    Expect(r"format=timelinejs", timelinejs),
    # Analysts
    Expect(r'^curl -s "\$A\?kind=official_statement&limit=5" \| jq', first_page),
    Expect(r"^NEXT=", next_cursor),
    Expect(r"cursor=\$NEXT", next_five),
    Expect(r"as_of_position=60", at_position_60),
    Expect(r"sort=-first_reported", newest_reports_first),
    Expect(r"/v1/changes\?since=60", changed_since_60),
    Expect(r"q=body\+cameras", searched),
    Expect(r"actor=department-of-homeland-security", said_by_the_department),
    Expect(r"occurred_match=within", disputed_within),
    Expect(r"format=csv\" \| grep", csv_export),
    Expect(r"healthz \| jq \.assertion_index", index_caught_up),
    # Actors
    Expect(r"/v1/actors\?q=noem", actors_found),
    Expect(r"/v1/actors/dhs-officials", merged_actor_shown),
    Expect(r"select\(\.attributed_to\)", pretti_speakers),
    Expect(r'"id": "springfield-fire-department"', fire_department_registered),
    Expect(r"springfield-fire-department/aliases", fire_department_aliased),
    Expect(r"city-hall-fire/timeline \| jq", fire_speakers),
    Expect(r'"id": "sfd"', duplicate_registered),
    Expect(r"springfield-fire-department/merge", duplicate_merged),
    # Provable history
    Expect(r"v1/log/key > /tmp/timeline-log.pub", verifier_key_saved),
    Expect(r"v1/log/checkpoint > /tmp/checkpoint.txt", checkpoint_saved),
    Expect(r"v1/events/1/proof\?size=", first_event_proved),
    Expect(r"^\.venv/bin/timeline export > /tmp/log\.ndjson", lambda ran: None),
    Expect(r"^\.venv/bin/timeline verify --export", export_verified),
    Expect(r"^\.venv/bin/timeline verify --url", service_watched),
    # Erasure
    Expect(r"^ADMIN=\$\(\.venv/bin/timeline keys create", admin_key_made),
    Expect(r"neighbour-saw-smoke\", \"kind\"", private_person_named),
    Expect(r"localhost:8000/v1/erasures", person_erased),
    Expect(r'select\(\.assertion_id == "neighbour-saw-smoke"\)', erased_in_the_timeline),
    # Webhooks, on one machine
    Expect(r"^SUB=\$\(curl -s -X POST localhost:8000/v1/subscriptions", lambda ran: None),
    Expect(r"^ID=", subscribed),
    Expect(r'^echo "\$SUB" \| jq', subscription_shown),
    Expect(r"^\.venv/bin/timeline receive --port 9000 --secret whsec_\.\.\.", receiver_listening),
    Expect(r'"assertion_id": "fire-contained"', delivered),
    Expect(r"/subscriptions/\$ID/deliveries", delivery_log, before=wait_for_the_recorded_attempt),
    Expect(r"/subscriptions/\$ID/replay", replayed),
    Expect(r"/subscriptions/\$ID/rotate-secret", rotated),
    # Operating
    Expect(r"localhost:8000/metrics \| grep", metrics_scraped),
]
SILENT = re.compile(r"^[A-Z_]+=[^$]*$")  # a plain assignment (`KEY=tl_...`, `T=...`): nothing to check


def fill_in(command: str, world: World) -> str:
    """What the reader fills in: the port, the key make run printed, the secret the subscription printed."""
    typed = command.replace("localhost:8000", f"localhost:{world.demo.port}")
    typed = typed.replace("127.0.0.1:8000", f"127.0.0.1:{world.demo.port}")
    typed = typed.replace(f"127.0.0.1:{RECEIVER_PORT}", f"127.0.0.1:{world.receiver_port}")
    typed = typed.replace(f"--port {RECEIVER_PORT}", f"--port {world.receiver_port}")
    typed = re.sub(r"\btl_\.\.\.", world.demo.key, typed)
    if "whsec_..." in typed:
        assert world.secret, "the README asks for a whsec_ secret before any command printed one"
        typed = typed.replace("whsec_...", world.secret)
    left = re.findall(r"\w+_\.\.\.|:8000\b|\b9000\b", typed.split(" #")[0])
    assert not left, f"the reader is left to fill in {left} with nothing the README says: {command}"
    return typed


def expectation_for(command: Command) -> Expect | None:
    matches = [e for e in EXPECTATIONS if re.search(e.pattern, command.text, re.MULTILINE)]
    assert len(matches) <= 1, f"several checks match README line {command.line}: {[m.pattern for m in matches]}"
    return matches[0] if matches else None


def generic_checks(ran: Ran) -> None:
    for value in json_values(ran.output):
        if isinstance(value, dict):
            for name in NONEMPTY:
                if isinstance(value.get(name), list):
                    assert value[name], f"it shows no {name}"


def test_every_command_in_the_readme_does_what_it_says(demo):
    printed = demo.printed()
    assert "demo API key with the write and webhooks scopes" in printed
    assert "imported 145 events into 5 incidents and the actors registry" in printed

    blocks = sh_blocks(README.read_text())
    setup, *examples = blocks
    assert [c.text.split("#")[0].strip() for c in setup.commands] == ["make run", "make test"], (
        "the first block is the two commands; the fixture ran `make run`, and `make test` is what runs this"
    )

    used: set[str] = set()
    terminals: list[Terminal] = []
    main = Terminal("the reader's terminal", demo.env, REPO)
    terminals.append(main)
    with httpx.Client(base_url=demo.url, headers={"Authorization": f"Bearer {demo.key}"}, timeout=30) as api:
        world = World(demo, free_port(), api)
        try:
            for block in examples:
                terminal = main
                if block.another_terminal:
                    terminal = Terminal(f"the terminal of README line {block.line}", demo.env, REPO)
                    terminals.append(terminal)
                for command in block.commands:
                    run_one(command, block, terminal, world, used)
        finally:
            for terminal in terminals:
                terminal.close()

    stale = [e.pattern for e in EXPECTATIONS if e.pattern not in used]
    assert not stale, f"checks for commands no longer in README.md: {stale}"


def run_one(command: Command, block: Block, terminal: Terminal, world: World, used: set[str]) -> None:
    expectation = expectation_for(command)
    where = f"README.md line {command.line} ({block.heading})"
    if expectation is None:
        assert SILENT.match(command.text.split("  #")[0].strip()) and not command.promises, (
            f"{where}: no check says what this command should print; add one to EXPECTATIONS:\n{command.text}"
        )
    typed = fill_in(command.text, world)
    if expectation is not None and expectation.before is not None:
        expectation.before(world)
    if block.another_terminal:
        terminal.start(typed)
        output = ""
    else:
        try:
            output = terminal.run(typed)
        except CommandFailed as failed:
            raise CommandFailed(f"{where}: {failed}") from None
    for secret in re.findall(r"whsec_[A-Za-z0-9+/=]+", output):
        world.notes.setdefault("first_secret", secret)
        world.secret = world.secret or secret  # the reader copies the one the subscription showed
    ran = Ran(command, typed, output, terminal, world)
    if expectation is None:
        assert output == "", f"{where} printed something no check looks at:\n{output[:2000]}"
        return
    used.add(expectation.pattern)
    try:
        generic_checks(ran)
        expectation.check(ran)
    except AssertionError as error:
        raise AssertionError(
            f"{where} does not do what the README says: {error}\n--- typed:\n{typed}\n--- printed:\n{output[:4000]}"
        ) from None


# -- the receiver the README points at --------------------------------------------------------


def test_the_receiver_prints_what_verifies_and_refuses_what_does_not():
    from datetime import datetime, timezone

    from app.receiver import make_server
    from app.webhooks.cloudevent import CONTENT_TYPE, to_cloudevent
    from app.webhooks.signing import new_secret, sign_headers

    secret, other = new_secret(), new_secret()
    event = {
        "event_id": "0b7c6f3e-2f4b-4c8e-9d3a-1e2f3a4b5c6d",
        "incident_id": "city-hall-fire",
        "type": "IncidentOpened",
        "schema_version": 1,
        "version": 1,
        "position": 7,
        "recorded_at": datetime.now(timezone.utc),
        "reported_at": None,
        "data": {"title": "Fire at city hall"},
        "metadata": {},
    }
    body = to_cloudevent(event, source="")
    out = StringIO()
    server = make_server("127.0.0.1", 0, [secret], out)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:

        def post(signed_with: str, sent: str = body) -> int:
            headers = sign_headers(event["event_id"], datetime.now(timezone.utc), sent, [signed_with])
            return httpx.post(url, content=sent.encode(), headers={**headers, "content-type": CONTENT_TYPE}).status_code

        assert post(secret) == 204
        assert post(other) == 401
        assert post(secret, sent=body) == 204
        tampered = body.replace("Fire at city hall", "Flood at city hall")
        headers = sign_headers(event["event_id"], datetime.now(timezone.utc), body, [secret])
        assert httpx.post(url, content=tampered.encode(), headers=headers).status_code == 401
        assert post(secret, sent='{"not": "a cloudevent"}') == 400
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
    lines = out.getvalue().splitlines()
    verified = [line for line in lines if line.startswith("verified ")]
    assert (
        verified
        == [
            f"verified {event['event_id']}: org.incident-timeline.IncidentOpened.v1 about city-hall-fire "
            "(version 1, position 7)"
        ]
        * 2
    )
    assert sum(line.startswith("refused (401)") for line in lines) == 2
    assert sum(line.startswith("refused (400)") for line in lines) == 1
    assert '"title": "Fire at city hall"' in out.getvalue()

    with pytest.raises(ValueError, match="whsec_"):
        make_server("127.0.0.1", 0, ["not-a-secret"], out)
