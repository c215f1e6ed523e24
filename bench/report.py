"""Shared helpers for the benchmark scripts: tables, peak memory, BENCHMARKS.md sections.

Each script owns one section of ``BENCHMARKS.md`` (between ``<!-- begin NAME -->`` and
``<!-- end NAME -->`` markers) and rewrites only that section, so the scripts can be
run in any order.
"""

import os
import platform
import resource
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

BENCHMARKS_MD = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
HEADER = (
    "# Benchmarks\n\n"
    "Written by the scripts in `bench/`; each section is rewritten by the script that "
    "names it. Baselines run in the same process run as our code.\n"
)


def markdown_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Render rows as a GitHub-flavoured Markdown table (``|`` in a cell escaped)."""

    def cell(value: object) -> str:
        return str(value).replace("|", "\\|")

    lines = ["| " + " | ".join(map(cell, headers)) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return "\n".join(lines)


def machine_line(measured: str | None = None) -> str:
    """One line describing where (and when: ``measured``, default today) the numbers
    were measured."""
    return (
        f"Measured {measured or time.strftime('%Y-%m-%d')} on {platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}."
    )


def write_section(name: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace (or append) the section ``name`` of BENCHMARKS.md with ``body``."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    text = path.read_text() if path.exists() else HEADER
    block = f"{begin}\n{body.rstrip()}\n{end}"
    if begin in text and end in text:
        head, rest = text.split(begin, 1)
        _, tail = rest.split(end, 1)
        text = head + block + tail
    else:
        text = text.rstrip() + "\n\n" + block + "\n"
    tmp = path.with_suffix(".md.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def rss_bytes() -> int:
    """Current resident set size of this process (Linux /proc), in bytes."""
    with open("/proc/self/statm") as statm:
        resident_pages = int(statm.read().split()[1])
    return resident_pages * resource.getpagesize()


class PeakMemory:
    """Context manager sampling RSS in a thread; ``growth`` is peak minus start, bytes.

    Sampling (every ``interval`` seconds) can miss very short spikes; it is the same
    for every contender, so comparisons stay fair.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.start = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> "PeakMemory":
        self.start = self.peak = rss_bytes()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._thread is not None
        self._thread.join()
        self.peak = max(self.peak, rss_bytes())

    @property
    def growth(self) -> int:
        return self.peak - self.start


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """Best wall-clock seconds of ``repeats`` calls of ``run``."""
    return best_of_interleaved(repeats, {"run": run})["run"]


def best_of_interleaved(
    repeats: int, runs: dict[str, Callable[[], object]]
) -> dict[str, float]:
    """Best wall-clock seconds of ``repeats`` calls of each run, taken in turns.

    One call of every run per round, so that a slower or faster spell of the machine
    falls on all of them alike and their ratios hold.

    Examples
    --------
    >>> times = best_of_interleaved(2, {"a": lambda: None, "b": lambda: None})
    >>> sorted(times), all(seconds >= 0 for seconds in times.values())
    (['a', 'b'], True)
    """
    best = dict.fromkeys(runs, float("inf"))
    for _ in range(repeats):
        for name, run in runs.items():
            started = time.perf_counter()
            run()
            best[name] = min(best[name], time.perf_counter() - started)
    return best
