"""Monitoring: select a slice's rows, score any model per slice, analyse SFs."""

from slicing.monitor.dataframe import slice_dataframe

__all__ = ["slice_dataframe"]
