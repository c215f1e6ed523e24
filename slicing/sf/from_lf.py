"""Repurpose labeling functions as slicing functions (paper section 4.2).

An LF already encodes a region of the data its author cared about; the slice is
"where the LF votes" (or "where it votes ``label``"), so LFs and SFs share one workflow.
"""

from collections.abc import Callable
from typing import Any

from snorkel.labeling.lf.core import LabelingFunction

from slicing.sf.core import SlicingFunction

__all__ = ["sf_from_lf"]

ABSTAIN = -1


class _VotesOf:
    """Picklable predicate: does the LF's core function vote (``label``) on ``x``?"""

    def __init__(self, lf_function: Callable[..., int], label: int | None) -> None:
        self.lf_function = lf_function
        self.label = label

    def __call__(self, x: Any, **resources: Any) -> bool:
        vote = self.lf_function(x, **resources)
        if self.label is None:
            return vote != ABSTAIN
        return vote == self.label


def sf_from_lf(
    lf: LabelingFunction, label: int | None = None, name: str | None = None
) -> SlicingFunction:
    """Make an SF whose slice is where ``lf`` votes (any label, or only ``label``).

    The LF's preprocessors and resources are carried over, so the SF sees exactly the
    data point the LF sees.

    Parameters
    ----------
    lf
        A snorkel ``LabelingFunction`` (abstains with ``-1``).
    label
        Only votes for this label count; ``None`` counts every non-abstain vote.
    name
        Name of the SF; ``lf.name`` by default, ``f"{lf.name}_{label}"`` with a label.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from snorkel.labeling import labeling_function
    >>> @labeling_function()
    ... def keyword_check(x):
    ...     return 1 if "check" in x.text else -1
    >>> sf = sf_from_lf(keyword_check)
    >>> sf.name, sf(SimpleNamespace(text="check it out")), sf(SimpleNamespace(text="hi"))
    ('keyword_check', True, False)
    >>> sf_from_lf(keyword_check, label=0)(SimpleNamespace(text="check it out"))
    False
    """
    if isinstance(lf, SlicingFunction) or not isinstance(lf, LabelingFunction):
        raise TypeError(
            f"sf_from_lf expects a snorkel LabelingFunction; got {type(lf).__name__}"
        )
    if label is not None and (
        isinstance(label, bool) or not isinstance(label, int) or label < 0
    ):
        raise ValueError(f"label must be a non-negative int class label; got {label!r}")
    if name is None:
        name = lf.name if label is None else f"{lf.name}_{label}"
    return SlicingFunction(
        name=name,
        f=_VotesOf(lf._f, label),
        resources=lf._resources,
        pre=list(lf._pre),
    )
