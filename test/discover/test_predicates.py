import numpy as np
import pandas as pd
import pytest

from slicing.discover.predicates import (
    Feature,
    Predicate,
    PredicateSpace,
    build_predicate_space,
    token_matrix,
    tokenize,
)


@pytest.fixture
def mixed() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    n_rows = 200
    x = rng.normal(size=n_rows)
    x[::17] = np.nan
    return pd.DataFrame(
        {
            "video": rng.integers(1, 4, n_rows),
            "x": x,
            "flag": rng.random(n_rows) < 0.3,
            "colour": rng.choice(["red", "green", "blue", None], n_rows),
            "text": rng.choice(["check my channel", "nice song", "Check THIS"], n_rows),
            "when": pd.date_range("2020-01-01", periods=n_rows, freq="h"),
        },
        index=np.arange(n_rows) * 3,  # labels differ from positions
    )


def test_tokenize_lowercases_and_drops_one_letter_words():
    assert tokenize(pd.Series(["I LOVE it!", "a b", None])).tolist() == [
        ["love", "it"],
        [],
        [],
    ]


def test_token_matrix_marks_rows_containing_each_token():
    texts = pd.Series(["check it out", "it is nice", "CHECK check"], index=[5, 5, 7])
    matrix = token_matrix(texts, ["check", "nice", "absent"])
    assert matrix.tolist() == [
        [True, False, False],
        [False, True, False],
        [True, False, False],
    ]


def test_codes_agree_with_predicate_masks(mixed):
    space = build_predicate_space(mixed, text_columns=["text"], n_bins=4)
    codes = space.encode(mixed)
    for predicate_id, predicate in enumerate(space.predicates):
        feature = space.feature_of[predicate_id]
        expected = predicate.mask(mixed)
        actual = codes[:, feature] == space.local_code[predicate_id]
        np.testing.assert_array_equal(actual, expected, err_msg=str(predicate))
    # A row matches at most one predicate per feature; "none" is the last code.
    assert (codes <= space.cardinalities).all()


def test_column_kinds_give_the_expected_predicates(mixed):
    space = build_predicate_space(mixed, text_columns=["text"], n_bins=4)
    by_column = {}
    for feature in space.features:
        by_column.setdefault(feature.column, []).append(feature)
    assert [p.value for p in by_column["video"][0].predicates] == [1, 2, 3]
    assert [p.value for p in by_column["flag"][0].predicates] == [False, True]
    assert [p.value for p in by_column["colour"][0].predicates] == [
        "blue",
        "green",
        "red",
    ]
    bins = by_column["x"][0].predicates
    assert len(bins) == 4 and bins[0].low is None and bins[-1].high is None
    assert all(a.high == b.low for a, b in zip(bins[:-1], bins[1:]))
    tokens = {f.predicates[0].value for f in by_column["text"]}
    assert tokens == {"check", "my", "channel", "nice", "song", "this"}
    assert "when" not in by_column  # datetimes skipped unless named


def test_missing_values_match_no_predicate(mixed):
    space = build_predicate_space(mixed, columns=["x"], n_bins=3)
    codes = space.encode(mixed)
    missing = mixed.x.isna().to_numpy()
    assert (codes[missing, 0] == 3).all() and (codes[~missing, 0] < 3).all()


def test_categorical_option_and_limits(mixed):
    space = build_predicate_space(
        mixed, columns=["x", "colour"], categorical=["x"], max_categories=2
    )
    x_feature, colour_feature = space.features
    assert x_feature.kind == "equals"
    assert [p.value for p in colour_feature.predicates] == sorted(
        mixed.colour.value_counts().index[:2]
    )


def test_min_count_drops_rare_values():
    frame = pd.DataFrame({"c": ["a"] * 5 + ["b"] * 2})
    space = build_predicate_space(frame, min_count=3)
    assert [p.value for p in space.predicates] == ["a"]


def test_bin_edges_are_rounded_so_names_are_exact():
    frame = pd.DataFrame({"x": np.linspace(0, 1, 101) / 3})
    space = build_predicate_space(frame, n_bins=3)
    edges = [p.low for p in space.predicates[1:]]
    assert edges == [float(f"{edge:.3g}") for edge in edges]


def test_named_datetime_column_is_refused(mixed):
    with pytest.raises(ValueError, match=r"column 'when' has dtype datetime64"):
        build_predicate_space(mixed, columns=["when"])


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"columns": ["nope"]}, KeyError, r"columns \['nope'\] are not in the frame"),
        ({"n_bins": 0}, ValueError, "n_bins must be a positive int; got 0"),
        (
            {"columns": ["colour"], "min_count": 10_000},
            ValueError,
            "the predicate space is empty",
        ),
    ],
)
def test_bad_arguments_are_refused(mixed, kwargs, error, message):
    with pytest.raises(error, match=message):
        build_predicate_space(mixed, **kwargs)


def test_non_frames_are_refused():
    with pytest.raises(TypeError, match="expected a pandas DataFrame; got dict"):
        build_predicate_space({"a": [1]})


def test_encode_names_missing_columns():
    space = PredicateSpace([Feature("a", (Predicate("a", "equals", 1),))])
    with pytest.raises(KeyError, match=r"lacks the columns \['a'\]"):
        space.encode(pd.DataFrame({"b": [1]}))


def test_mask_names_the_missing_column():
    with pytest.raises(KeyError, match="predicate on column 'a'"):
        Predicate("a", "equals", 1).mask(pd.DataFrame({"b": [1]}))
