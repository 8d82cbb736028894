"""The canonical encoding of an event (app.proofs.leaves): RFC 8785 of its ten members as the export
writes them; the two-step form the append path uses gives the very same bytes for any event; what
older versions could store still has a leaf; a changed member changes the leaf."""

from __future__ import annotations

import json

import hypothesis.strategies as st
import pytest
import rfc8785
from hypothesis import given

from app.proofs.leaves import MEMBERS, canonical_event, encode_value, event_leaf
from app.proofs.merkle import leaf_hash

EVENT = {
    "position": 7,
    "incident_id": "alex-pretti-shooting",
    "version": 3,
    "event_id": "0b9f6f0e-7c55-4b59-9d1b-5d1c4c1d9a10",
    "type": "SourceAttached",
    "schema_version": 1,
    "data": {"assertion_id": "shot", "source": {"outlet": "Sky News", "quote": "“Shot” — at 9:05 a.m."}},
    "metadata": {"actor": "desk"},
    "reported_at": "2026-01-25",
    "recorded_at": "2026-01-25T14:05:00.123456Z",
}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=("Cs",))),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def test_the_encoding_is_rfc_8785_of_the_ten_members():
    encoded = canonical_event({**EVENT, "leaf_hash": "ignored", "unreadable": []})
    assert encoded == rfc8785.dumps(EVENT)
    assert list(json.loads(encoded)) == sorted(MEMBERS), "members sorted by name, nothing else"
    assert encoded.startswith(b'{"data":{"assertion_id":"shot","source":{"outlet":"Sky News","quote":"\xe2\x80\x9cShot')
    assert event_leaf(EVENT) == leaf_hash(encoded)


def test_an_event_without_one_of_its_members_cannot_be_hashed():
    with pytest.raises(ValueError, match="recorded_at"):
        canonical_event({k: v for k, v in EVENT.items() if k != "recorded_at"})


@pytest.mark.parametrize(
    "member, changed",
    [
        ("position", 8),
        ("version", 4),
        ("incident_id", "renee-good-shooting"),
        ("type", "AssertionRecorded"),
        ("schema_version", 2),
        ("data", {**EVENT["data"], "assertion_id": "shot2"}),
        ("metadata", {"actor": "someone else"}),
        ("reported_at", "2026-01-26"),
        ("recorded_at", "2026-01-25T14:05:00.123457Z"),
        ("event_id", "0b9f6f0e-7c55-4b59-9d1b-5d1c4c1d9a11"),
    ],
)
def test_any_changed_member_changes_the_leaf(member, changed):
    assert event_leaf({**EVENT, member: changed}) != event_leaf(EVENT)


def test_what_older_versions_could_store_still_has_a_leaf():
    # A lone surrogate (from a JSON escape) and an integer past I-JSON's range: no version admits
    # them now, and RFC 8785 cannot write them; each stored event must still be hashed.
    assert encode_value({"quote": "half \ud800 a pair"}) == '{"quote":"half \ufffd a pair"}'.encode()
    assert encode_value({"n": 2**60}) == b'{"n":"1152921504606846976"}'
    assert encode_value({"n": 2**53 - 1}) == b'{"n":9007199254740991}'


# Every kind of value the encoder may meet, those the fast path refuses included: any integer,
# floats, lone surrogates, keys of any characters (JCS sorts them by UTF-16 code units), tuples.
any_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.sampled_from([2**53 - 1, -(2**53) + 1, 2**53, -(2**53), 2**64])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(blacklist_categories=()))
    | st.sampled_from(["\x00\x1f\x7f", "\u2028\u2029", "\ud800", "a\udfffb", "\U0001f600\ue000", '"\\/'])
    | st.builds(str, st.integers()),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(
            st.text(st.characters(blacklist_categories=()), max_size=4)
            | st.sampled_from(["\ue000", "\U0001f600", "é"]),
            inner,
            max_size=4,
        )
    ),
    max_leaves=16,
)


@given(any_values)
def test_the_fast_encoding_is_the_rfc_8785_encoding(value):
    """encode_value's fast path (orjson, where it writes what JCS writes) gives the bytes the
    RFC 8785 implementation gives, and the values it does not take still get theirs."""
    from app.proofs.leaves import _legacy

    try:
        expected = rfc8785.dumps(value)
    except (rfc8785.IntegerDomainError, rfc8785.CanonicalizationError):
        expected = rfc8785.dumps(_legacy(value))
    assert encode_value(value) == expected


def test_keys_sort_by_utf_16_code_units_however_they_are_encoded():
    # U+E000 is above every surrogate, U+1F600 is written with two: JCS puts the emoji first.
    assert encode_value({"\ue000": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ue000":1}'.encode()


@given(
    st.dictionaries(st.text(max_size=6) | st.sampled_from(["é", "\U0001f600"]), any_values, max_size=4)
    | st.dictionaries(st.integers(0, 9) | st.booleans() | st.none(), any_values, max_size=2)
)
def test_what_an_append_stores_reads_back_as_the_standard_librarys_text_did(value):
    """app.store.store._as_stored writes the usual event's data with orjson: the text stored reads
    back to the value the standard library's text held, and so the tree hashes the same bytes."""
    from app.store.store import _as_stored

    before = json.loads(json.dumps(value, separators=(",", ":"))) if value else {}
    assert json.loads(_as_stored(value)) == before


@pytest.mark.parametrize("number", [float("nan"), float("inf"), -float("inf")])
def test_an_event_holding_a_number_json_cannot_hold_is_refused_before_it_is_stored(number):
    """orjson would write it as null, the standard library as a token no JSON parser takes, and
    the log's tree could never hash it: the store says why instead."""
    from app.store import NewEvent
    from app.store.store import _prepared

    with pytest.raises(ValueError, match="NaN or an infinity"):
        _prepared("inc", "e-1", NewEvent("Noted", {"quote": "said", "n": [number]}), lambda *_: None)
