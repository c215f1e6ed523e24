"""Check a base task's labels once, before they reach a loss.

Hard labels are ``(n,)`` class ids with ``-1`` for "no label"; soft labels are
``(n, c)`` class distributions (snorkel's ``LabelModel.predict_proba``) with rows of
``-1`` for "no label". A NaN row would turn every weight NaN, and a negative or
unnormalised row trains silently on a target that is not a distribution, so both are
refused here, naming the rows, as are labels with no labelled row at all.
"""

import torch

__all__ = ["SOFT_LABEL_TOLERANCE", "validate_base_labels"]

# Rows of float32 probabilities from a label model sum to 1 within ~1e-6; 1e-3 still
# catches rows that were never normalised.
SOFT_LABEL_TOLERANCE = 1e-3


def _rows(mask: torch.Tensor, limit: int = 5) -> str:
    """``"rows [3, 7] (2 rows)"``: the first few row numbers and the count."""
    rows = torch.nonzero(mask).flatten()
    shown = rows[:limit].tolist()
    more = ", ..." if len(rows) > limit else ""
    return f"rows {str(shown)[:-1]}{more}] ({len(rows)} of {len(mask)} rows)"


def validate_base_labels(
    labels: torch.Tensor, task_name: str, cardinality: int
) -> None:
    """Check hard or soft labels of a task before training or scoring on them.

    Parameters
    ----------
    labels
        Hard labels ``(n,)``: integers in ``{-1, 0, ..., c-1}``; or soft labels
        ``(n, c)``: floats, each row a distribution (finite, non-negative, summing to
        1 within ``SOFT_LABEL_TOLERANCE``) or all ``-1`` (no label).
    task_name
        Named in the error messages.
    cardinality
        Number of classes ``c``.

    Raises
    ------
    ValueError
        On a wrong shape or dtype, an out-of-range class, a soft row that is not a
        distribution, or when no row is labelled; the message names the first few
        offending rows and their count.

    Examples
    --------
    >>> import torch
    >>> validate_base_labels(torch.tensor([0, 2]), "task", 2)
    Traceback (most recent call last):
    ...
    ValueError: labels of task 'task' hold 2 at row 1; expected -1 (no label) or a class in 0..1
    >>> soft = torch.tensor([[0.5, 0.5], [float("nan"), 1.0], [0.7, 0.7]])
    >>> validate_base_labels(soft, "task", 2)
    Traceback (most recent call last):
    ...
    ValueError: soft labels of task 'task' hold NaN or infinite values in rows [1] (1 of 3 rows); expected finite probabilities (or a row of -1 for no label)
    """
    if labels.dim() == 1:
        _check_hard_labels(labels, task_name, cardinality)
        unlabelled = labels == -1
    elif labels.dim() == 2:
        _check_soft_labels(labels, task_name, cardinality)
        unlabelled = (labels == -1).all(dim=1)
    else:
        raise ValueError(
            f"labels of task {task_name!r} must be (n,) class ids or (n, {cardinality}) "
            f"probabilities; got shape {tuple(labels.shape)}"
        )
    if len(labels) and bool(unlabelled.all()):
        raise ValueError(
            f"labels of task {task_name!r} are all -1 (no label) in its "
            f"{len(labels)} rows: nothing to learn or score; expected at least one "
            "labelled row"
        )


def _check_hard_labels(labels: torch.Tensor, task_name: str, cardinality: int) -> None:
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(
            f"hard labels of task {task_name!r} must be an integer tensor; got "
            f"{labels.dtype}"
        )
    bad_rows = torch.nonzero((labels < -1) | (labels >= cardinality)).flatten()
    if bad_rows.numel():
        row = int(bad_rows[0])
        raise ValueError(
            f"labels of task {task_name!r} hold {int(labels[row])} at row {row}; "
            f"expected -1 (no label) or a class in 0..{cardinality - 1}"
        )


def _check_soft_labels(labels: torch.Tensor, task_name: str, cardinality: int) -> None:
    if labels.shape[1] != cardinality or not labels.dtype.is_floating_point:
        raise ValueError(
            f"soft labels of task {task_name!r} must be a float tensor of shape "
            f"(n, {cardinality}); got {labels.dtype} of shape {tuple(labels.shape)}"
        )
    prefix = f"soft labels of task {task_name!r}"
    labelled = ~(labels == -1).all(dim=1)
    non_finite = ~torch.isfinite(labels).all(dim=1)
    if non_finite.any():
        raise ValueError(
            f"{prefix} hold NaN or infinite values in {_rows(non_finite)}; expected "
            "finite probabilities (or a row of -1 for no label)"
        )
    negative = labelled & (labels < 0).any(dim=1)
    if negative.any():
        raise ValueError(
            f"{prefix} hold negative values in {_rows(negative)}; expected "
            "probabilities in [0, 1] (or a row of -1 for no label)"
        )
    row_sums = labels.sum(dim=1, dtype=torch.float64)
    unnormalised = labelled & ((row_sums - 1).abs() > SOFT_LABEL_TOLERANCE)
    if unnormalised.any():
        first = int(torch.nonzero(unnormalised)[0])
        raise ValueError(
            f"{prefix} do not sum to 1 in {_rows(unnormalised)} (row {first} sums to "
            f"{float(row_sums[first]):.4g}); expected each row to sum to 1 within "
            f"{SOFT_LABEL_TOLERANCE:g}"
        )
