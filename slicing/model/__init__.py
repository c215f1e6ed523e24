"""The torch wing: slice tasks, batched slice heads, the attention combiner, losses,
``SliceAwareClassifier`` and the weight average its ``fit`` keeps.

Everything that imports torch lives in this folder; ``import slicing`` and the
appliers never import it (the top-level names are loaded on first use).
"""

from slicing.model.averaging import WeightAverage
from slicing.model.classifier import SliceAwareClassifier, collate_stacked
from slicing.model.combiner import (
    AttentionMode,
    SliceCombinerModule,
    prediction_confidence,
)
from slicing.model.heads import (
    IndicatorAsTwoClassLogits,
    SliceHeadsModule,
    SliceHeadsOutput,
    SliceIndicators,
    SmallSliceIndicators,
)
from slicing.model.tasks import add_slice_labels, convert_to_slice_tasks

__all__ = [
    "AttentionMode",
    "IndicatorAsTwoClassLogits",
    "SliceAwareClassifier",
    "SliceCombinerModule",
    "SliceHeadsModule",
    "SliceHeadsOutput",
    "SliceIndicators",
    "SmallSliceIndicators",
    "WeightAverage",
    "add_slice_labels",
    "collate_stacked",
    "convert_to_slice_tasks",
    "prediction_confidence",
]
