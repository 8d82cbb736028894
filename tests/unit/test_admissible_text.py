"""events.admissible.text_problems: its quick pass (orjson) never hides a problem the walk of
every string finds, for any value, and the walk still locates each one."""

from __future__ import annotations

import hypothesis.strategies as st
from hypothesis import given

from events.admissible import _text_problems, text_problems

texts = st.text(st.characters(blacklist_categories=()), max_size=6) | st.sampled_from(
    ["\x00", "a\x00b", "\ud800", "x\udfffy", "\\u0000", "fine", "\U0001f600"]
)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | texts,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(texts | st.integers(), inner, max_size=4)
    ),
    max_leaves=16,
)


@given(values)
def test_the_quick_pass_finds_what_the_walk_finds(value):
    assert list(text_problems(value)) == list(_text_problems(value, ()))


def test_each_problem_is_located():
    value = {"sources": [{"quote": "fine"}, {"quote": "a\x00b"}], "head\ud800line": "x"}
    assert list(text_problems(value)) == [
        (("sources", 1, "quote"), "contains a NUL character (U+0000) at offset 1; remove it"),
        ((), "a key contains a lone surrogate (U+D800) at offset 4, which is not Unicode text"),
    ]
