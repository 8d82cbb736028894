"""The index's entries are encoded with orjson, and with the standard library where orjson refuses."""

import json

from hypothesis import given
from hypothesis import strategies as st

from app.db import json_dumps, json_loads

documents = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(documents)
def test_a_document_reads_back_as_it_was_written(document):
    assert json_loads(json_dumps(document)) == json.loads(json.dumps(document))


def test_what_orjson_refuses_is_written_as_the_standard_library_writes_it():
    for document in ({"text": "half a pair \ud800"}, {"count": 2**70}):
        assert json_dumps(document) == json.dumps(document)


def test_text_is_written_as_utf8_not_escaped():
    assert json_dumps({"name": "Renée Good"}) == '{"name":"Renée Good"}'
