"""The actors registry (events.actors) and the names it matches (events.names): pure, no store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from events import catalog
from events.actors import (
    ActorExists,
    ActorMerged,
    ActorRefused,
    MergeCycle,
    NameTaken,
    Registry,
    UnknownActor,
    UnknownMergedActor,
)
from events.names import name_key


@dataclass(frozen=True)
class Ev:
    type: str
    data: dict[str, Any]


def registered(actor_id: str, name: str, kind: str | None = "person", *aliases: str) -> Ev:
    data: dict[str, Any] = {"actor_id": actor_id, "name": name, "aliases": list(aliases)}
    if kind:
        data["kind"] = kind
    return Ev("ActorRegistered", data)


def aliased(actor_id: str, alias: str) -> Ev:
    return Ev("ActorAliased", {"actor_id": actor_id, "alias": alias})


def merged(kept: str, other: str) -> Ev:
    return Ev("ActorsMerged", {"actor_id": kept, "merged_actor_id": other})


def registry(*events: Ev) -> Registry:
    folded = Registry.fold(events)
    assert folded.refused == [], folded.refused
    return folded


NOEM = registered("kristi-noem", "Kristi Noem", "person", "Noem", "DHS Secretary Kristi Noem")
DHS = registered("dhs", "Department of Homeland Security", "body")
DHS_OFFICIALS = registered("dhs-officials", "DHS officials", "group")


# -- names --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("Kristi Noem", "kristi noem"),
        ("  kristi   NOEM ", "kristi noem"),
        ("DHS Secretary Kristi Noem", "kristi noem"),
        ("Homeland Security Secretary Kristi Noem", "kristi noem"),
        ("Secretary of Homeland Security Kristi Noem", "kristi noem"),
        ("Noem’s", "noem"),
        ("Ms Noem", "noem"),
        ("Ms. Noem", "noem"),
        ("Mr. Trump", "trump"),
        ("President Donald Trump", "donald trump"),
        ("Border Patrol commander Gregory Bovino", "gregory bovino"),
        ("“Tom Homan”", "tom homan"),
        ("DHS", "department of homeland security"),
        ("the Homeland Security Department", "department of homeland security"),
        ("DHS officials", "department of homeland security officials"),
        ("Department of Homeland Security officials", "department of homeland security officials"),
        ("U.S. Customs and Border Protection", "customs and border protection"),
        ("CBP's internal review", "customs and border protection internal review"),
        ("The New York Times", "new york times"),
        ("NYT", "new york times"),
        # Title words with no title proper, or no name after them, are the name itself.
        ("Department of Homeland Security", "department of homeland security"),
        ("Senate Democrats", "senate democrats"),
        ("Justice Department", "department of justice"),
        ("Federal judge in Illinois", "federal judge in illinois"),
        ("President", "president"),
        ("ice", "immigration and customs enforcement"),
        ("Ice Cube", "ice cube"),  # an acronym only when written in capitals
        ("Bystander videos (as described by Sky News)", "bystander videos as described by sky news"),
        ("...", ""),
    ],
)
def test_names_are_matched_by_their_key(written, key):
    assert name_key(written) == key


@given(st.text(max_size=60))
def test_a_key_is_its_own_key(text):
    assert name_key(name_key(text)) == name_key(text)


@given(st.sampled_from(["Kristi Noem", "Department of Homeland Security", "Tom Homan"]), st.data())
def test_case_spacing_and_edge_punctuation_do_not_matter(name, data):
    cased = "".join(c.upper() if data.draw(st.booleans()) else c.lower() for c in name)
    spaced = data.draw(st.sampled_from([" ", "  ", "\t", " \n "])).join(cased.split())
    wrapped = data.draw(st.sampled_from(['"{}"', "({})", "{},", "{}.", "“{}”", "{}"])).format(spaced)
    assert name_key(wrapped) == name_key(name)


# -- resolution ---------------------------------------------------------------------------------


def test_a_person_resolves_by_every_way_reports_write_the_name():
    actors = registry(NOEM)
    for written in ("Kristi Noem", "Noem", "DHS Secretary Kristi Noem", "Homeland Security Secretary Kristi Noem"):
        assert actors.resolve(written) == "kristi-noem", written
    assert actors.resolve("Ms. Noem's") == "kristi-noem"
    assert actors.resolve("Tom Homan") is None
    assert actors.resolve(None) is None and actors.resolve("") is None


def test_a_body_resolves_by_its_acronym_and_usual_names():
    actors = registry(DHS)
    for written in ("DHS", "the Department of Homeland Security", "Homeland Security Department"):
        assert actors.resolve(written) == "dhs", written
    assert actors.resolve("DHS officials") is None, "officials are another actor until an editor merges them"


def test_a_surname_alone_resolves_while_one_registered_person_has_it():
    actors = registry(registered("kristi-noem", "Kristi Noem"))
    assert actors.resolve("Noem") == actors.resolve("Ms Noem") == "kristi-noem"
    assert actors.names_of("kristi-noem") == {"kristi noem", "noem"}

    actors.apply(*_parts(registered("tom-noem", "Tom Noem")))
    assert actors.resolve("Noem") is None, "two persons named Noem: the surname alone says neither"
    assert actors.names_of("kristi-noem") == {"kristi noem"}

    actors.apply(*_parts(aliased("kristi-noem", "Noem")))
    assert actors.resolve("Noem") == "kristi-noem", "a registered alias always resolves"
    assert actors.resolve("Tom Noem") == "tom-noem"


def test_only_persons_lend_their_last_word():
    actors = registry(registered("senate-democrats", "Senate Democrats", "group"), registered("x", "Jane Doe", None))
    assert actors.resolve("Democrats") is None
    assert actors.resolve("Doe") is None, "an actor of no stated kind is not taken for a person"


def test_a_registered_name_takes_precedence_over_a_surname():
    actors = registry(registered("kristi-noem", "Kristi Noem"), registered("noem-group", "Noem", "group"))
    assert actors.resolve("Noem") == "noem-group"
    assert actors.names_of("kristi-noem") == {"kristi noem"}


# -- aliases ------------------------------------------------------------------------------------


def _parts(event: Ev) -> tuple[str, dict[str, Any]]:
    return event.type, event.data


def test_an_alias_belonging_to_another_actor_is_refused():
    actors = registry(NOEM, registered("tom-homan", "Tom Homan"))
    with pytest.raises(NameTaken) as taken:
        actors.check(*_parts(aliased("tom-homan", "ms noem")))
    assert taken.value.owner == "kristi-noem" and "merge" in str(taken.value)
    with pytest.raises(NameTaken):
        actors.check(*_parts(registered("noem-2", "Noem")))


def test_an_alias_the_actor_has_changes_nothing_and_an_unknown_actor_is_refused():
    actors = registry(NOEM)
    assert actors.check(*_parts(aliased("kristi-noem", "KRISTI NOEM"))) is False
    assert actors.check(*_parts(aliased("kristi-noem", "Governor Noem"))) is False
    assert actors.check(*_parts(aliased("kristi-noem", "Kristi Lynn Noem"))) is True
    with pytest.raises(UnknownActor):
        actors.check(*_parts(aliased("nobody", "Nobody")))
    with pytest.raises(ActorExists):
        actors.check(*_parts(registered("kristi-noem", "Someone Else")))


# -- merges -------------------------------------------------------------------------------------


def test_a_merged_actor_redirects_to_the_kept_one():
    actors = registry(DHS, DHS_OFFICIALS, merged("dhs", "dhs-officials"))
    assert actors.resolve("DHS officials") == actors.resolve("DHS") == "dhs"
    assert actors.live("dhs-officials") == "dhs"
    kept = actors.get("dhs-officials")
    assert kept is not None and kept.id == "dhs" and kept.merged_actor_ids == ("dhs-officials",)
    assert kept.names == ("Department of Homeland Security", "DHS officials")
    assert (
        actors.names_of("dhs-officials")
        == actors.names_of("dhs")
        == {
            "department of homeland security",
            "department of homeland security officials",
        }
    )
    assert [actor.id for actor in actors.all()] == ["dhs"]


def test_merges_redirect_transitively():
    actors = registry(
        registered("a", "Alpha Body", "body"),
        registered("b", "Beta Body", "body"),
        registered("c", "Gamma Body", "body"),
        merged("b", "a"),
        merged("c", "b"),
    )
    assert {actors.resolve(name) for name in ("Alpha Body", "Beta Body", "Gamma Body")} == {"c"}
    gamma = actors.get("a")
    assert gamma is not None and gamma.id == "c" and gamma.merged_actor_ids == ("b", "a")
    assert actors.check(*_parts(merged("c", "a"))) is False, "a is part of c already"


def test_a_merge_that_would_make_a_cycle_is_refused():
    actors = registry(DHS, DHS_OFFICIALS, merged("dhs", "dhs-officials"))
    with pytest.raises(MergeCycle):
        actors.check(*_parts(merged("dhs-officials", "dhs")))
    actors.apply(*_parts(merged("dhs-officials", "dhs")))
    assert actors.refused and actors.live("dhs") == "dhs", "the fold leaves a refused merge out"


def test_merging_into_or_from_a_merged_actor_names_the_live_one():
    actors = registry(DHS, DHS_OFFICIALS, registered("cbp", "CBP", "body"), merged("dhs", "dhs-officials"))
    with pytest.raises(ActorMerged) as into:
        actors.check(*_parts(merged("dhs-officials", "cbp")))
    assert into.value.into == "dhs" and "merge into 'dhs' instead" in str(into.value)
    actors.apply(*_parts(merged("cbp", "dhs")))
    assert actors.live("dhs-officials") == "cbp" and actors.resolve("DHS officials") == "cbp"
    actors.apply(*_parts(registered("ice", "ICE", "body")))
    with pytest.raises(ActorMerged) as already:
        actors.check(*_parts(merged("ice", "dhs")))
    assert already.value.into == "cbp" and "already merged into 'cbp'" in str(already.value)


def test_a_merge_names_two_known_actors():
    actors = registry(DHS)
    with pytest.raises(UnknownActor):
        actors.check(*_parts(merged("nobody", "dhs")))
    with pytest.raises(UnknownMergedActor):
        actors.check(*_parts(merged("dhs", "nobody")))


def test_the_fold_leaves_out_what_a_rule_refuses_and_counts_every_event():
    actors = Registry.fold([NOEM, registered("other", "Noem"), aliased("nobody", "x"), aliased("kristi-noem", "KN")])
    assert actors.version == 4
    assert [refused["version"] for refused in actors.refused] == [2, 3]
    assert actors.resolve("KN") == "kristi-noem" and actors.get("other") is None


def test_unknown_ids_have_no_names():
    assert Registry().names_of("nobody") == frozenset()
    assert Registry().get("nobody") is None and Registry().all() == []


def test_search_finds_actors_by_part_of_a_name_or_by_what_resolves():
    actors = registry(NOEM, DHS, registered("tom-homan", "Tom Homan"))
    assert [actor.id for actor in actors.search("homeland")] == ["dhs"]
    assert [actor.id for actor in actors.search("Secretary Noem")] == ["kristi-noem"]
    assert [actor.id for actor in actors.search("  ")] == ["dhs", "kristi-noem", "tom-homan"]


def test_the_catalog_refuses_what_the_registry_could_never_hold():
    with pytest.raises(catalog.InvalidEvent):
        catalog.validate("ActorRegistered", {"actor_id": "x", "name": "?!"})
    with pytest.raises(catalog.InvalidEvent):
        catalog.validate("ActorsMerged", {"actor_id": "x", "merged_actor_id": "x"})


# -- the invariant, for any sequence -------------------------------------------------------------

IDS = [f"a{n}" for n in range(4)]
NAMES = [
    "Kristi Noem",
    "Noem",
    "Tom Noem",
    "Tom Homan",
    "DHS",
    "Department of Homeland Security",
    "DHS officials",
    "Senate Democrats",
    "Mr. Homan",
    "Secretary Noem",
    "CBP",
]
KINDS = st.sampled_from(["person", "body", "group", "outlet", None])

steps = st.one_of(
    st.builds(
        lambda actor_id, name, kind, aliases: registered(actor_id, name, kind, *aliases),
        st.sampled_from(IDS),
        st.sampled_from(NAMES),
        KINDS,
        st.lists(st.sampled_from(NAMES), max_size=2),
    ),
    st.builds(aliased, st.sampled_from(IDS), st.sampled_from(NAMES)),
    st.builds(merged, st.sampled_from(IDS), st.sampled_from(IDS)).filter(lambda e: len(set(e.data.values())) == 2),
)


@given(st.lists(steps, max_size=30))
def test_every_name_resolves_to_one_live_actor_and_names_of_partitions_them(events):
    actors = Registry()
    given_to: dict[str, str] = {}  # every name accepted (as written) -> the actor it was given to
    for event in events:
        refused_before = len(actors.refused)
        try:
            actors.check(event.type, event.data)
        except ActorRefused:
            actors.apply(event.type, event.data)
            assert len(actors.refused) == refused_before + 1, "what check refuses, the fold leaves out"
            continue
        if event.type == "ActorRegistered":
            for name in (event.data["name"], *event.data["aliases"]):
                given_to.setdefault(name, event.data["actor_id"])
        elif event.type == "ActorAliased":
            given_to.setdefault(event.data["alias"], event.data["actor_id"])
        actors.apply(event.type, event.data)
        assert len(actors.refused) == refused_before
    assert actors.version == len(events)

    live = {actor.id for actor in actors.all()}
    for name, owner in given_to.items():
        resolved = actors.resolve(name)
        assert resolved == actors.live(owner) and resolved in live, (name, owner)
    for actor_id in IDS:
        found = actors.live(actor_id)
        assert found is None or found in live, "every chain of merges ends at a live actor"

    partition = {actor_id: actors.names_of(actor_id) for actor_id in live}
    keys = [key for names in partition.values() for key in names]
    assert len(keys) == len(set(keys)), "no key belongs to two live actors"
    for name in NAMES + [n.upper() for n in NAMES]:
        owner = actors.resolve(name)
        holding = [actor_id for actor_id, names in partition.items() if name_key(name) in names]
        assert holding == ([owner] if owner is not None else []), name
    for actor_id in IDS:
        assert actors.names_of(actor_id) == (partition[actors.live(actor_id)] if actors.live(actor_id) else set())
