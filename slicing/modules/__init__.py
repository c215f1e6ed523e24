"""``nn.Module``s of slice-aware models: batched slice heads and the attention combiner."""

from slicing.modules.slice_combiner import (
    AttentionMode,
    SliceCombinerModule,
    prediction_confidence,
)
from slicing.modules.slice_heads import (
    IndicatorAsTwoClassLogits,
    SliceHeadsModule,
    SliceHeadsOutput,
)

__all__ = [
    "AttentionMode",
    "SliceCombinerModule",
    "IndicatorAsTwoClassLogits",
    "SliceHeadsModule",
    "SliceHeadsOutput",
    "prediction_confidence",
]
