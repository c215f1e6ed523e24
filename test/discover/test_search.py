import itertools

import numpy as np
import pandas as pd
import pytest

from slicing.discover.naming import readable_name
from slicing.discover.predicates import PredicateSpace, build_predicate_space
from slicing.discover.scoring import sliceline_score
from slicing.discover.search import find_slices


def exhaustive_top_slices(
    space: PredicateSpace,
    frame: pd.DataFrame,
    errors: np.ndarray,
    min_support: int,
    max_level: int,
    top_k: int,
    alpha: float,
    drop_redundant: bool = True,
) -> list[tuple[float, str]]:
    """Every conjunction of predicates on distinct features, scored one by one.

    With ``drop_redundant``, a slice is skipped when a slice ranked above it uses a
    subset of its predicates.
    """
    masks = [predicate.mask(frame) for predicate in space.predicates]
    n_rows, mean_error = len(frame), errors.mean()
    found = []
    for level in range(1, max_level + 1):
        for ids in itertools.combinations(range(len(space.predicates)), level):
            if len(set(space.feature_of[list(ids)])) < level:
                continue
            inside = np.logical_and.reduce([masks[i] for i in ids])
            size = int(inside.sum())
            if size < min_support:
                continue
            score = float(
                sliceline_score(
                    np.array([size]),
                    np.array([errors[inside].sum()]),
                    n_rows,
                    mean_error,
                    alpha,
                )[0]
            )
            if score > 0:
                names = readable_name([space.predicates[i] for i in ids])
                found.append((-score, level, ids, names))
    found.sort()
    kept: list[tuple[float, int, tuple, str]] = []
    for entry in found:
        if drop_redundant and any(set(k[2]) < set(entry[2]) for k in kept):
            continue
        kept.append(entry)
    return [(-score, name) for score, _, _, name in kept[:top_k]]


def random_frame(seed: int, n_rows: int = 300) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "a": rng.integers(0, 3, n_rows),
            "b": rng.choice(["x", "y", "z", "w"], n_rows),
            "c": rng.normal(size=n_rows),
            "d": rng.random(n_rows) < 0.4,
        }
    )
    hard = (frame.a == 1) & (frame.b == "y")
    errors = rng.random(n_rows) < np.where(hard, 0.5, 0.15)
    return frame, errors.astype(np.float64)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alpha", [0.9, 0.95, 1.0])
@pytest.mark.parametrize("drop_redundant", [False, True])
def test_top_k_equals_exhaustive_enumeration(seed, alpha, drop_redundant):
    frame, errors = random_frame(seed)
    if seed % 2:  # losses rather than 0/1 errors
        errors = errors * np.random.default_rng(seed).gamma(2.0, size=len(errors))
    space = build_predicate_space(frame, n_bins=3)
    result = find_slices(
        frame,
        errors,
        space=space,
        min_support=8,
        max_level=3,
        top_k=7,
        error_weight=alpha,
        drop_redundant=drop_redundant,
        progress_bar=False,
        refine=False,
    )
    expected = exhaustive_top_slices(
        space, frame, errors, 8, 3, 7, alpha, drop_redundant
    )
    assert len(result) == len(expected) > 0
    np.testing.assert_allclose(
        [item.score for item in result], [score for score, _ in expected]
    )
    # Slices tying in score may be either; the others must be the same slices.
    kth = expected[-1][0]
    assert {n for s, n in expected if s > kth + 1e-9} == {
        item.name for item in result if item.score > kth + 1e-9
    }


def test_statistics_rows_match_the_sfs():
    frame, errors = random_frame(0, n_rows=500)
    result = find_slices(frame, errors, min_support=10, top_k=5, progress_bar=False)
    table = result.table()
    for item, sf in zip(result, result.to_sfs()):
        inside = sf.apply_to_frame(frame)
        assert item.size == inside.sum() == table.loc[item.name, "size"]
        assert item.error == pytest.approx(errors[inside].mean())
        assert item.error_lift == pytest.approx(errors[inside].mean() / errors.mean())
        assert item.error_low <= item.error <= item.error_high


def test_planted_slice_comes_first():
    rng = np.random.default_rng(1)
    n_rows = 5000
    frame = pd.DataFrame(
        {"video": rng.integers(1, 6, n_rows), "n_words": rng.integers(1, 40, n_rows)}
    )
    hard = (frame.video == 5) & (frame.n_words >= 30)
    errors = rng.random(n_rows) < np.where(hard, 0.7, 0.05)
    result = find_slices(frame, errors, top_k=3, progress_bar=False)
    # Quantile bins do not fall exactly on 30; the top bin is the planted one.
    assert result[0].name.startswith("video=5 & n_words>=3")
    assert result[0].error > 0.6


def test_error_column_is_not_a_feature():
    frame, errors = random_frame(2)
    frame["err"] = errors
    result = find_slices(frame, "err", min_support=10, progress_bar=False)
    assert all("err" not in item.name for item in result)
    assert len(result) > 0


def test_no_errors_gives_an_empty_result():
    frame, errors = random_frame(3)
    result = find_slices(frame, np.zeros(len(frame)), progress_bar=False)
    assert len(result) == 0 and result.table().empty


def test_fractional_min_support_is_a_share_of_rows():
    frame, errors = random_frame(4, n_rows=400)
    result = find_slices(frame, errors, min_support=0.1, progress_bar=False)
    assert min(item.size for item in result) >= 40


def test_text_tokens_become_predicates():
    rng = np.random.default_rng(5)
    words = np.array(["check", "my", "channel", "nice", "song", "love", "it"])
    texts = [" ".join(rng.choice(words, 4)) for _ in range(600)]
    frame = pd.DataFrame({"text": texts})
    errors = frame.text.str.contains("channel") & frame.text.str.contains("check")
    result = find_slices(
        frame, errors.to_numpy(), text_columns=["text"], top_k=1, progress_bar=False
    )
    assert result[0].name == '"check" in text & "channel" in text'


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_level": 0}, "max_level must be a positive int; got 0"),
        ({"top_k": 2.5}, "top_k must be a positive int; got 2.5"),
        ({"error_weight": 0}, r"error_weight must be in \(0, 1\]; got 0"),
        ({"min_support": -3}, "min_support must be positive; got -3"),
    ],
)
def test_bad_parameters_are_refused(kwargs, message):
    frame, errors = random_frame(0, n_rows=50)
    with pytest.raises(ValueError, match=message):
        find_slices(frame, errors, progress_bar=False, **kwargs)


def test_non_frames_are_refused():
    with pytest.raises(TypeError, match="pandas or Dask DataFrame; got list"):
        find_slices([1, 2, 3], [0, 1, 0])


def test_progress_bar_counts_feature_combinations(capsys):
    frame, errors = random_frame(0, n_rows=200)
    find_slices(frame, errors, min_support=5, max_level=2, progress_bar=True)
    assert "combinations" in capsys.readouterr().err


def test_too_deep_search_is_refused():
    frame, errors = random_frame(0, n_rows=100)
    with pytest.raises(ValueError, match="max_level=30 is too deep"):
        find_slices(frame, errors, max_level=30, progress_bar=False)


def test_empty_frame_is_refused():
    with pytest.raises(ValueError, match="the DataFrame is empty"):
        find_slices(pd.DataFrame({"a": []}), [], progress_bar=False)
