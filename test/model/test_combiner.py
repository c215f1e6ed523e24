import pytest
import torch

from slicing.model.combiner import SliceCombinerModule, prediction_confidence


def inputs(batch: int = 4, n_slices: int = 3, cardinality: int = 2, dim: int = 5):
    torch.manual_seed(0)
    return (
        torch.randn(batch, n_slices),
        torch.randn(batch, n_slices, cardinality),
        torch.randn(batch, n_slices, dim),
    )


def logit_vs_base(q: torch.Tensor) -> torch.Tensor:
    return torch.cat([q[:, :-1], torch.zeros(len(q), 1)], dim=1)


@pytest.mark.parametrize(
    "indicator_score, score",
    [
        ("logit_vs_base", logit_vs_base),
        ("logit", lambda q: q),
        ("log_probability", torch.nn.functional.logsigmoid),
    ],
)
def test_full_attention_is_softmax_of_indicator_plus_abs_logit(indicator_score, score):
    q, p, r = inputs()
    combiner = SliceCombinerModule(mode="full", indicator_score=indicator_score)
    binary_logit = p[..., 1] - p[..., 0]
    expected_weights = torch.softmax(score(q) + binary_logit.abs(), dim=1)
    torch.testing.assert_close(combiner.attention_weights(q, p), expected_weights)
    expected = (expected_weights.unsqueeze(-1) * r).sum(dim=1)
    torch.testing.assert_close(combiner(q, p, r), expected)


def test_confident_negative_prediction_gets_as_much_weight_as_confident_positive():
    # snorkel.slicing weights by P(positive), which gives confident negatives no weight.
    q = torch.zeros(1, 2)
    p = torch.tensor([[[4.0, -4.0], [-4.0, 4.0]]])
    weights = SliceCombinerModule(mode="confidence").attention_weights(q, p)
    torch.testing.assert_close(weights, torch.tensor([[0.5, 0.5]]))


def test_multiclass_confidence_is_top_two_margin_and_reduces_to_abs_logit():
    logits = torch.tensor([[1.0, 4.0, 2.5], [0.0, 0.0, 0.0]])
    torch.testing.assert_close(prediction_confidence(logits), torch.tensor([1.5, 0.0]))
    binary = torch.tensor([[0.3, -1.2]])
    torch.testing.assert_close(prediction_confidence(binary), torch.tensor([1.5]))


@pytest.mark.parametrize(
    "mode, scores",
    [
        ("uniform", lambda q, c: torch.zeros_like(q)),
        ("indicator", lambda q, c: logit_vs_base(q)),
        ("confidence", lambda q, c: c),
        ("full", lambda q, c: logit_vs_base(q) + c),
    ],
)
def test_ablation_modes(mode, scores):
    q, p, r = inputs(cardinality=3)
    weights = SliceCombinerModule(mode=mode, temperature=2.0).attention_weights(q, p)
    expected = torch.softmax(scores(q, prediction_confidence(p)) / 2.0, dim=1)
    torch.testing.assert_close(weights, expected)


def test_the_always_on_base_slice_cannot_drown_a_confident_member():
    # The base indicator's target is always 1, so its raw logit keeps growing. A
    # member of a slice with a confident indicator logit of 4 gets 1% of the
    # attention under the literal raw-logit softmax, at most half under
    # log sigmoid(q) (a tie with the base at best), and odds e^4 against the base's
    # fixed even odds under the default.
    q = torch.tensor([[4.0, 9.0]])  # [slice, base]
    p = torch.zeros(1, 2, 2)
    raw = SliceCombinerModule(indicator_score="logit").attention_weights(q, p)
    log_probability = SliceCombinerModule(
        indicator_score="log_probability"
    ).attention_weights(q, p)
    default = SliceCombinerModule().attention_weights(q, p)
    assert raw[0, 0] < 0.01
    assert 0.49 < log_probability[0, 0] < 0.5
    torch.testing.assert_close(default[0, 0], torch.sigmoid(torch.tensor(4.0)))


def test_default_scores_do_not_depend_on_the_base_indicator_logit():
    q, p, _ = inputs()
    shifted = q.clone()
    shifted[:, -1] += 100.0
    combiner = SliceCombinerModule()
    torch.testing.assert_close(
        combiner.attention_weights(q, p), combiner.attention_weights(shifted, p)
    )


def test_default_attention_is_the_indicator_alone():
    # Confident slice predictors do not pull attention by default (issue 17): the
    # weights are softmax(Q) whatever the predictor logits, and "full" adds |P|.
    q, p, _ = inputs()
    default = SliceCombinerModule()
    assert default.mode == "indicator"
    torch.testing.assert_close(
        default.attention_weights(q, p), default.attention_weights(q, 10 * p)
    )
    full = SliceCombinerModule(mode="full").attention_weights(q, p)
    assert not torch.allclose(full, default.attention_weights(q, p))


def test_higher_temperature_flattens_attention():
    q, p, _ = inputs()
    sharp = SliceCombinerModule(temperature=0.5).attention_weights(q, p)
    flat = SliceCombinerModule(temperature=10.0).attention_weights(q, p)
    assert (flat.max(dim=1).values < sharp.max(dim=1).values).all()


@pytest.mark.parametrize("detach, has_gradient", [(True, False), (False, True)])
def test_detach_confidence_controls_gradient_into_predictor_logits(
    detach, has_gradient
):
    q, p, r = inputs()
    p.requires_grad_(True)
    r.requires_grad_(True)
    SliceCombinerModule(mode="full", detach_confidence=detach)(q, p, r).sum().backward()
    assert (p.grad is not None and p.grad.abs().sum() > 0) == has_gradient


def test_bad_arguments_and_shapes_are_refused():
    with pytest.raises(ValueError, match="mode must be one of"):
        SliceCombinerModule(mode="softmax")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="indicator_score must be one of"):
        SliceCombinerModule(indicator_score="probability")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="temperature must be positive"):
        SliceCombinerModule(temperature=0.0)
    q, p, r = inputs()
    with pytest.raises(ValueError, match="share"):
        SliceCombinerModule()(q, p[:, :2], r)
    with pytest.raises(ValueError, match="at least 2 classes"):
        prediction_confidence(torch.zeros(2, 1))


def snorkel_outputs(q, p, r, names):
    """snorkel.slicing's per-slice output dict for batched q, p, r."""
    outputs = {}
    for index, name in enumerate(names):
        prefix = f"task_slice:{name}"
        outputs[f"{prefix}_ind_head"] = torch.stack(
            [torch.zeros_like(q[:, index]), q[:, index]], dim=1
        )
        outputs[f"{prefix}_pred_head"] = p[:, index]
        outputs[f"{prefix}_pred_transform"] = r[:, index]
    return outputs


def test_snorkels_dict_call_equals_the_batched_call_with_base_last():
    torch.manual_seed(0)
    q, p, r = torch.randn(4, 3), torch.randn(4, 3, 2), torch.randn(4, 3, 5)
    combiner = SliceCombinerModule()
    # Dict keys in any order; "base" is put last, the others sorted by name.
    outputs = snorkel_outputs(q, p, r, ["zeta", "alpha", "base"])
    order = [1, 0, 2]  # alpha, zeta, base
    expected = combiner(q[:, order], p[:, order], r[:, order])
    assert torch.allclose(combiner(outputs), expected)


def test_snorkels_dict_call_refuses_incomplete_outputs():
    torch.manual_seed(0)
    outputs = snorkel_outputs(
        torch.randn(2, 1), torch.randn(2, 1, 2), torch.randn(2, 1, 3), ["a"]
    )
    del outputs["task_slice:a_pred_transform"]
    with pytest.raises(ValueError, match=r"missing \['task_slice:a_pred_transform'\]"):
        SliceCombinerModule()(outputs)
    with pytest.raises(ValueError, match="pass indicator logits, predictor logits"):
        SliceCombinerModule()(torch.zeros(2, 1))
