"""``.. cli-help:: [COMMAND]``: the ``--help`` text of the ``slicing`` command or one command.

The text comes from the package's own argparse parsers at build time, so the page
cannot drift from ``slicing --help``.
"""

import argparse
import os

from docutils import nodes
from docutils.parsers.rst import Directive
from sphinx.application import Sphinx

HELP_WIDTH = "88"


def _subparser(
    parser: argparse.ArgumentParser, command: str
) -> argparse.ArgumentParser:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action.choices[command]
    raise KeyError(f"the slicing parser has no subcommands; asked for {command!r}")


class CliHelp(Directive):
    """A literal block with the ``--help`` output of ``slicing [COMMAND]``."""

    optional_arguments = 1

    def run(self) -> list[nodes.Node]:
        from slicing.cli import build_parser

        previous = os.environ.get("COLUMNS")
        os.environ["COLUMNS"] = HELP_WIDTH  # argparse wraps to this width
        try:
            parser = build_parser()
            if self.arguments:
                parser = _subparser(parser, self.arguments[0])
            text = parser.format_help()
        finally:
            if previous is None:
                os.environ.pop("COLUMNS", None)
            else:
                os.environ["COLUMNS"] = previous
        block = nodes.literal_block(text, text)
        block["language"] = "text"
        return [block]


def setup(app: Sphinx) -> dict[str, object]:
    app.add_directive("cli-help", CliHelp)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
