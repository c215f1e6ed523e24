"""spaCy-backed slicing functions (optional: ``pip install slicing[nlp]``).

Built on snorkel's ``SpacyPreprocessor``: data points get a parsed ``doc`` field,
shared (memoized) between all ``NLPSlicingFunction``s of a process. Pass
``language="blank:en"`` for a tokenizer-only pipeline that needs no model download.
"""

from slicing.sf.core import SlicingFunction

try:
    import spacy  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        "spaCy slicing functions need spaCy: pip install 'slicing[nlp]' "
        "(or pip install spacy)"
    ) from exc

from snorkel.labeling.lf.nlp import (  # noqa: E402
    BaseNLPLabelingFunction,
    SpacyPreprocessorParameters,
    base_nlp_labeling_function,
)
from snorkel.preprocess.nlp import SpacyPreprocessor  # noqa: E402

__all__ = ["NLPSlicingFunction", "nlp_slicing_function"]


class NLPSlicingFunction(BaseNLPLabelingFunction, SlicingFunction):
    """A slicing function over a spaCy ``Doc`` (field ``doc`` by default).

    All instances in a process share one ``SpacyPreprocessor`` (and its cache); they
    must therefore agree on ``text_field``, ``doc_field``, ``language`` and friends.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> def many_tokens(x):
    ...     return len(x.doc) > 3
    >>> sf = NLPSlicingFunction("many_tokens", many_tokens, language="blank:en")
    >>> sf(SimpleNamespace(text="check out my channel")), sf(SimpleNamespace(text="hi"))
    (True, False)
    """

    @classmethod
    def _create_preprocessor(
        cls, parameters: SpacyPreprocessorParameters
    ) -> SpacyPreprocessor:
        return SpacyPreprocessor(**parameters._asdict())


class nlp_slicing_function(base_nlp_labeling_function):
    """Decorator defining an :class:`NLPSlicingFunction`.

    Takes the arguments of snorkel's ``nlp_labeling_function`` (``name``,
    ``resources``, ``pre``, ``text_field``, ``doc_field``, ``language``, ``disable``,
    ``memoize``, ``memoize_key``, ``gpu``).

    Examples
    --------
    >>> @nlp_slicing_function(language="blank:en")
    ... def has_exclamation(x):
    ...     return any(token.text == "!" for token in x.doc)
    >>> has_exclamation
    NLPSlicingFunction has_exclamation, Preprocessors: [SpacyPreprocessor...]
    """

    _lf_cls = NLPSlicingFunction
