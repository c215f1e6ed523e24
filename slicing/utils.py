"""snorkel.slicing's path ``slicing.utils``; see :mod:`slicing.model.tasks`."""

from slicing.model.tasks import add_slice_labels, convert_to_slice_tasks

__all__ = ["add_slice_labels", "convert_to_slice_tasks"]
