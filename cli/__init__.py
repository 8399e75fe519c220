"""The ``fieldsync`` command line.

Each part of FieldSync contributes its subcommands through a ``register``
function in its own ``cli`` module; this module only assembles them.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# (module, attribute) pairs; each ``register(subparsers)`` adds its commands.
_COMMANDS = (
    "fieldsync.cli.serve",
    "fieldsync.cli.admin",
    "fieldsync.ocr.cli",
    "fieldsync.geo.cli",
    "fieldsync.voice.cli",
)


def build_parser() -> argparse.ArgumentParser:
    """Return the parser with every installed part's subcommands."""
    parser = argparse.ArgumentParser(prog="fieldsync", description="FieldSync sync hub and tools")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in _COMMANDS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:  # a real missing dependency, not an absent part
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``fieldsync`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    result = args.handler(args)
    return int(result or 0)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
