"""Monitoring: select a slice's rows, score any model per slice, compare, analyse SFs.

``dask_slice_scores`` (Dask) and the plots (matplotlib) are imported on first use.
``slice_dataframe`` is an apply operation (:mod:`slicing.apply.dataframe`); it is
reachable here only because ``snorkel.slicing.monitor`` exported it, and is resolved
on first use so that importing monitoring never imports the appliers.
"""

from slicing.intervals import wilson_interval
from slicing.lazy import lazy_getattr
from slicing.monitor.analysis import SFAnalysis, slice_sizes_by_split
from slicing.monitor.compare import compare_models, compare_slice_scores
from slicing.monitor.options import ScoreOptions
from slicing.monitor.scores import SliceScorer, slice_scores
from slicing.monitor.table import format_slice_scores

_LAZY_NAMES = {
    "slice_dataframe": "slicing.apply.dataframe",
    "dask_slice_scores": "slicing.monitor.dask_scores",
    "plot_slice_scores": "slicing.monitor.plots",
    "plot_slice_comparison": "slicing.monitor.plots",
    "plot_slice_overlap": "slicing.monitor.plots",
    "GateResult": "slicing.monitor.gate_result",
    "GateRules": "slicing.monitor.gate_rules",
    "MetricRule": "slicing.monitor.gate_rules",
    "load_gate_rules": "slicing.monitor.gate_toml",
    "gate_slices": "slicing.monitor.gates",
    "gate_slice_tables": "slicing.monitor.gate_tables",
    "dask_gate_slices": "slicing.monitor.gate_dask",
}


__getattr__ = lazy_getattr(__name__, _LAZY_NAMES)

__all__ = [
    "SFAnalysis",
    "ScoreOptions",
    "SliceScorer",
    "compare_models",
    "compare_slice_scores",
    "format_slice_scores",
    "slice_scores",
    "slice_sizes_by_split",
    "wilson_interval",
    *_LAZY_NAMES,
]
