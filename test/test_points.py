import pickle

import pytest

from slicing.points import MutableDataPoint, point_to_dict, row_type


def test_row_supports_attribute_item_and_get_access():
    Row = row_type(("text", "score"))
    x = Row._make(["hi", 0.5])
    assert x.text == "hi" and x["score"] == 0.5 and x[0] == "hi"
    assert x.get("missing", "default") == "default"
    assert x.to_dict() == {"text": "hi", "score": 0.5}


def test_row_with_non_identifier_columns():
    Row = row_type(("my col", "_private", 3))
    x = Row._make([1, 2, 4])
    assert x["my col"] == 1 and getattr(x, "my col") == 1
    assert x._private == 2 and x["_private"] == 2
    assert x[3] == 4  # an int column label wins over the position


def test_missing_column_names_the_columns():
    x = row_type(("text",))._make(["hi"])
    with pytest.raises(
        AttributeError, match=r"no column 'txt'; its columns are \['text'\]"
    ):
        x.txt  # noqa: B018
    with pytest.raises(KeyError, match="no column 'txt'"):
        x["txt"]


def test_rows_pickle_by_value():
    x = row_type(("a", "b"))._make([1, "two"])
    y = pickle.loads(pickle.dumps(x))
    assert y.a == 1 and y["b"] == "two"


def test_mutable_point_takes_new_fields_and_pickles():
    x = MutableDataPoint(text="hi")
    x.lower = "hi"
    assert x["lower"] == "hi" and x.keys() == ["text", "lower"]
    assert pickle.loads(pickle.dumps(x)).lower == "hi"
    with pytest.raises(AttributeError, match="no column 'nope'"):
        x.nope  # noqa: B018


def test_point_to_dict_supports_common_point_types():
    from collections import namedtuple
    from types import SimpleNamespace

    import pandas as pd

    Point = namedtuple("Point", ["a"])
    for point in (pd.Series({"a": 1}), {"a": 1}, SimpleNamespace(a=1), Point(1)):
        assert point_to_dict(point) == {"a": 1}
    with pytest.raises(TypeError, match="cannot read named fields"):
        point_to_dict((1, 2))
