"""What every ``slicing`` command shares: option helpers, calling a batch job with
the parsed options, printing a table, and the mapping from failures to exit statuses.
"""

import argparse
import inspect
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slicing.batch.errors import BatchInputError, BatchOutputError
from slicing.errors import SFApplicationError, SFOutputError

if TYPE_CHECKING:
    import pandas as pd

# Each command's exit statuses, after its examples (the codes are those of
# slicing.batch.errors; report and estimate run no SF but keep apply's numbering).
JOB_EXIT_STATUS = """
exit status: 0 done, 1 an SF failed, 2 bad input or usage,
4 the output could not be written (read-only or full disk), 130 interrupted.
"""

LOCAL_SCHEDULERS = ["threads", "processes", "synchronous"]

#: The failures a command reports in one line (with an exit status) instead of a
#: traceback; see :func:`failure`.
FAILURES = (
    BatchInputError,
    BatchOutputError,
    SFApplicationError,
    SFOutputError,
    KeyboardInterrupt,
)


def names(text: str) -> list[str]:
    """A comma-separated list of names, e.g. ``"p0, p1"`` -> ``["p0", "p1"]``."""
    found = [name.strip() for name in text.split(",") if name.strip()]
    if not found:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated names, e.g. a,b; got {text!r}"
        )
    return found


def model_columns(text: str) -> str | list[str]:
    """A model's predicted-label column, or its list of per-class probability columns."""
    columns = names(text)
    return columns[0] if len(columns) == 1 else columns


def add_command(
    subparsers: argparse._SubParsersAction,
    name: str,
    handler: Callable[[argparse.Namespace], int],
    *,
    summary: str,
    description: str,
    epilog: str,
) -> argparse.ArgumentParser:
    """A subcommand whose ``--help`` ends with its examples and exit statuses."""
    parser = subparsers.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(handler=handler)
    return parser


def add_path(
    parser: argparse.ArgumentParser,
    flag: str,
    help: str,
    *,
    required: bool = True,
    dest: str | None = None,
) -> None:
    parser.add_argument(flag, required=required, metavar="PATH", help=help, dest=dest)


def add_column(
    parser: argparse.ArgumentParser, flag: str, help: str, **options: object
) -> None:
    parser.add_argument(flag, metavar="COL", help=help, **options)


def add_label_column(parser: argparse.ArgumentParser) -> None:
    add_column(
        parser, "--label-column", "gold label column (default: label)", default="label"
    )


def add_names(
    parser: argparse.ArgumentParser,
    flag: str,
    help: str,
    *,
    metavar: str = "COLS",
    default: str | None = None,
) -> None:
    """An option holding comma-separated names, parsed into a list."""
    parser.add_argument(flag, type=names, metavar=metavar, default=default, help=help)


def add_id_join(
    parser: argparse.ArgumentParser, *, id_help: str, unmatched_help: str
) -> None:
    add_column(parser, "--id-column", id_help)
    parser.add_argument("--allow-unmatched", action="store_true", help=unmatched_help)


def add_output_dir(
    parser: argparse.ArgumentParser, *, out_help: str, overwrite_help: str
) -> None:
    parser.add_argument("--out", required=True, metavar="DIR", help=out_help)
    parser.add_argument("--overwrite", action="store_true", help=overwrite_help)


def add_local_scheduler(parser: argparse.ArgumentParser, *, purpose: str = "") -> None:
    parser.add_argument(
        "--scheduler",
        metavar="NAME",
        default="threads",
        choices=LOCAL_SCHEDULERS,
        help=f"local Dask scheduler{purpose}: threads (default), processes, "
        "synchronous",
    )


def run_job(job: Callable, args: argparse.Namespace, *positional: object) -> Any:
    """Call a batch job with its ``positional`` arguments and, for each of its
    keyword-only parameters, the command-line option of that name.

    Each command's options are therefore named (``dest``) after the job's parameters
    (``--format`` -> ``input_format``, ``--rules`` -> ``rules_path``): a new job
    parameter needs its option, or the command fails loudly (``AttributeError``).
    """
    options = {
        name: getattr(args, name)
        for name, parameter in inspect.signature(job).parameters.items()
        if parameter.kind is inspect.Parameter.KEYWORD_ONLY
    }
    return job(*positional, **options)


def print_table(table: "pd.DataFrame") -> None:
    import pandas as pd

    with pd.option_context("display.width", 160, "display.max_columns", 20):
        print(table.to_string())


def failure(exc: BaseException, command: str) -> tuple[int, str]:
    """The exit status of a failed command and what to tell its user."""
    if isinstance(exc, BatchInputError):
        return 2, f"error: {exc}"
    if isinstance(exc, BatchOutputError):
        return 4, f"error: {exc}"
    if isinstance(exc, (SFApplicationError, SFOutputError)):
        return 1, (
            f"SF failure: {exc}\n"
            "(use --fault-tolerant to count such rows instead of stopping)"
        )
    resume = " Rerun with --resume to continue." if command == "apply" else ""
    return 130, f"interrupted; the output was not written.{resume}"
