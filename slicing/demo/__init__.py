"""The demo: find the slices where a spam classifier is weak, then train a slice-aware one.

Run it with ``python -m slicing.demo`` (``--help`` for the options); it needs only the
base install. :data:`SFS` holds its four slicing functions; :func:`main` (imported on
first use, since it needs torch) runs it.
"""

from slicing.demo.sfs import (
    SFS,
    has_link,
    keyword_please,
    regex_check_out,
    short_comment,
)
from slicing.lazy import lazy_getattr

__all__ = [
    "SFS",
    "has_link",
    "keyword_please",
    "main",
    "regex_check_out",
    "short_comment",
]

__getattr__ = lazy_getattr(__name__, {"main": "slicing.demo.run"})
