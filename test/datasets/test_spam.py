import pandas as pd

from slicing.datasets.spam import clean_comment, load_spam


def test_conventional_split_sizes_columns_and_labels():
    splits = load_spam()
    assert [len(frame) for frame in splits] == [1586, 100, 120, 250]
    for frame in splits:
        assert frame.columns.tolist() == ["author", "date", "text", "label", "video"]
        assert set(frame.label.unique()) <= {0, 1}
    assert set(splits.train.video) == {1, 2, 3, 4}
    assert set(splits.valid.video) == set(splits.test.video) == {5}
    assert splits.dev.index.isin(splits.train.index).all()
    # Stratified: both Shakira splits keep the video's spam rate (to within a row).
    shakira_rate = (splits.valid.label.sum() + splits.test.label.sum()) / 370
    assert abs(splits.test.label.mean() - shakira_rate) < 0.01


def test_split_is_deterministic():
    first, second = load_spam(), load_spam()
    for a, b in zip(first, second):
        pd.testing.assert_frame_equal(a, b)


def test_quirks_are_handled():
    train = load_spam().train
    assert not train.text.str.contains("\ufeff").any()
    assert not train.text.str.contains("&#39;|&quot;|<br", regex=True).any()
    assert train.date.isna().sum() == 245  # Eminem rows without a date
    assert clean_comment("I <3 this > that") == "I <3 this > that"
    assert clean_comment('<a href="http://a.b">see</a>') == "see http://a.b"


def test_demo_prints_slice_sizes(capsys):
    from slicing import demo

    demo.main(["--epochs", "1", "--train-rows", "300", "--no-progress"])
    out = capsys.readouterr().out
    for name in ("short_comment", "keyword_please", "regex_check_out", "has_link"):
        assert name in out
