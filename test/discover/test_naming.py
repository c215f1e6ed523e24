import keyword

import pytest
from hypothesis import given
from hypothesis import strategies as st

from slicing.discover.naming import (
    identifier_name,
    readable_name,
    readable_predicate,
    unique_names,
)
from slicing.discover.predicates import Predicate


@pytest.mark.parametrize(
    ("predicate", "readable", "identifier"),
    [
        (Predicate("video", "equals", 5), "video=5", "video_eq_5"),
        (Predicate("flag", "equals", True), "flag=True", "flag_eq_True"),
        (Predicate("who", "equals", "Ann Lee"), 'who="Ann Lee"', "who_eq_Ann_Lee"),
        (Predicate("x", "range", high=0.25), "x<0.25", "x_lt_0p25"),
        (Predicate("x", "range", low=-2.0), "x>=-2", "x_ge_m2"),
        (Predicate("x", "range", low=1.0, high=3.0), "1<=x<3", "x_ge_1_lt_3"),
        (Predicate("text", "contains", "check"), '"check" in text', "text_has_check"),
    ],
)
def test_predicate_names(predicate, readable, identifier):
    assert readable_predicate(predicate) == readable
    assert identifier_name([predicate]) == identifier


def test_conjunction_names():
    predicates = [Predicate("video", "equals", 5), Predicate("n", "range", high=5.0)]
    assert readable_name(predicates) == "video=5 & n<5"
    assert identifier_name(predicates) == "video_eq_5__n_lt_5"


@given(
    column=st.text(min_size=1, max_size=8),
    value=st.one_of(st.text(max_size=8), st.integers(), st.floats(allow_nan=False)),
)
def test_identifier_names_are_python_identifiers(column, value):
    name = identifier_name([Predicate(column, "equals", value)])
    assert name.isidentifier() and not keyword.iskeyword(name)
    assert "/" not in readable_name([Predicate(column, "contains", "x")]) or (
        "/" in column
    )


def test_unique_names_suffix_repeats():
    assert unique_names(["a", "a", "a_2", "b"]) == ["a", "a_2", "a_2_2", "b"]
