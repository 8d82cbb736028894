"""Crypto-shredding a private person's name (app.proofs.sealing): the name and every text naming it
are sealed, nothing else is; they open with the key and read "[erased]" in the name's place once
the key is gone; a sealed value moved or changed does not open; a text naming two private persons
is unreadable once either is erased."""

from __future__ import annotations

import json

import hypothesis.strategies as st
import pytest
from hypothesis import assume, given

from app.proofs.sealing import (
    ERASED,
    SealingError,
    is_sealed,
    new_key,
    open_data,
    private_names,
    seal_data,
    sealed_key_ids,
)

DATA = {
    "assertion_id": "witness-account",
    "kind": "statement",
    "headline": "A neighbour, Jane Doe, says agents fired first",
    "text": "JANE   DOE told reporters she saw it from her porch. Doe's account differs from DHS's.",
    "attributed_to": "Jane Doe",
    "actors": [{"name": "Jane Doe", "private": True}, "DHS"],
    "sources": [{"outlet": "FOX 9", "quote": "“They fired first,” said Jane Doe, 41."}],
}


class Keys:
    def __init__(self):
        self.keys: dict[str, bytes | None] = {}
        self.ids: dict[str, str] = {}

    def key_for(self, name: str) -> tuple[str, bytes]:
        key_id = self.ids.setdefault(name.casefold(), f"k{len(self.ids) + 1}")
        key = self.keys.setdefault(key_id, new_key())
        assert key is not None
        return key_id, key

    def lookup(self, key_id: str) -> bytes | None:
        return self.keys.get(key_id)

    def erase(self, name: str) -> None:
        self.keys[self.ids[name.casefold()]] = None


def test_the_name_and_every_text_naming_it_are_sealed_and_nothing_else():
    keys = Keys()
    sealed = seal_data(DATA, keys.key_for, event_id="e1")
    stored = json.dumps(sealed)
    assert "Jane" not in stored and "JANE" not in stored, "no trace of the name in what is stored"
    assert is_sealed(sealed["headline"]) and is_sealed(sealed["text"]) and is_sealed(sealed["attributed_to"])
    assert is_sealed(sealed["actors"][0]["name"]) and sealed["actors"][0]["private"] is True
    assert is_sealed(sealed["sources"][0]["quote"])
    assert sealed["actors"][1] == "DHS" and sealed["kind"] == "statement" and sealed["sources"][0]["outlet"] == "FOX 9"
    assert sealed_key_ids(sealed) == {"k1"}
    assert open_data(sealed, keys.lookup, event_id="e1") == {
        **DATA,
        "actors": [{"name": "Jane Doe", "private": True}, "DHS"],
    }


def test_once_the_key_is_destroyed_the_name_reads_erased_and_the_rest_of_the_text_stays():
    keys = Keys()
    sealed = seal_data(DATA, keys.key_for, event_id="e1")
    keys.erase("Jane Doe")
    opened = open_data(sealed, keys.lookup, event_id="e1")
    assert opened["headline"] == f"A neighbour, {ERASED}, says agents fired first"
    assert opened["text"].startswith(f"{ERASED} told reporters") and "Doe's account" in opened["text"]
    assert opened["attributed_to"] == ERASED and opened["actors"][0]["name"] == ERASED
    assert opened["sources"][0]["quote"] == f"“They fired first,” said {ERASED}, 41."


def test_a_sealed_value_moved_to_another_field_or_event_does_not_open():
    keys = Keys()
    sealed = seal_data(DATA, keys.key_for, event_id="e1")
    moved = {**sealed, "text": sealed["headline"]}
    with pytest.raises(SealingError, match="changed or moved"):
        open_data(moved, keys.lookup, event_id="e1")
    with pytest.raises(SealingError):
        open_data(sealed, keys.lookup, event_id="e2")
    changed = {**sealed, "headline": {**sealed["headline"], "ciphertext": sealed["text"]["ciphertext"]}}
    with pytest.raises(SealingError):
        open_data(changed, keys.lookup, event_id="e1")


def test_a_text_naming_two_private_persons_is_unreadable_once_either_is_erased():
    data = {
        "headline": "Jane Doe and John Roe were stopped",
        "actors": [{"name": "Jane Doe", "private": True}, {"name": "John Roe", "private": True}],
    }
    for erased in ("Jane Doe", "John Roe"):
        keys = Keys()
        sealed = seal_data(data, keys.key_for, event_id="e")
        assert sealed_key_ids(sealed["headline"]) == {"k1", "k2"}
        assert open_data(sealed, keys.lookup, event_id="e")["headline"] == data["headline"]
        keys.erase(erased)
        assert open_data(sealed, keys.lookup, event_id="e")["headline"] == f"{ERASED} and {ERASED} were stopped"


def test_names_are_taken_only_from_actors_marked_private():
    assert private_names({"actors": ["Jane Doe", {"name": "DHS"}, {"name": " Ann Lee ", "private": True}]}) == [
        "Ann Lee"
    ]
    assert seal_data({"headline": "Jane Doe", "actors": ["Jane Doe"]}, Keys().key_for, event_id="e") == {
        "headline": "Jane Doe",
        "actors": ["Jane Doe"],
    }


@given(st.text(min_size=1, max_size=60), st.text(max_size=60))
def test_any_text_opens_to_itself_with_its_key(before, after):
    assume("jane" not in (before + after).casefold())
    keys = Keys()
    data = {"headline": f"{before} Jane Doe {after}", "actors": [{"name": "Jane Doe", "private": True}]}
    sealed = seal_data(data, keys.key_for, event_id="e")
    assert open_data(sealed, keys.lookup, event_id="e") == data
    keys.erase("Jane Doe")
    assert "Jane Doe" not in json.dumps(open_data(sealed, keys.lookup, event_id="e"), ensure_ascii=False)
