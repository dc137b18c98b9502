"""``mtbsync``: the command line over :mod:`mtbsync_core`. The only place that prints and exits.

Each area registers its subcommands from its own module (``runs``, ``batch``, ``export``,
``gps``, ``multicam``, ``highlights``, ``stitch``). Errors the user can act on print one line and exit with the code documented in
:mod:`mtbsync_core.errors`; ``--debug`` re-raises them with a traceback instead.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence

from ..errors import MtbSyncError
from . import batch, export, gps, highlights, multicam, runs, stitch

_AREAS = (runs, batch, export, gps, multicam, highlights, stitch)


def build_parser() -> argparse.ArgumentParser:
    """The full ``mtbsync`` argument parser."""
    from .. import __version__

    parser = argparse.ArgumentParser(
        prog="mtbsync",
        description="Line up a new mountain-bike run with a reference run, carry its markers "
        "across, and export them for your editor.",
    )
    parser.add_argument("--version", action="version", version=f"mtbsync {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks instead of one-line errors"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what each step does")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for area in _AREAS:
        area.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``mtbsync`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if not args.debug:
        warnings.showwarning = _one_line_warning
    try:
        return int(args.func(args) or 0)
    except MtbSyncError as err:
        if args.debug:
            raise
        print(f"mtbsync: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("mtbsync: interrupted; no output was left half-written.", file=sys.stderr)
        return 130


def _one_line_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Show engine warnings as ``mtbsync: warning: ...`` on one line (``--debug`` shows the source)."""
    print(f"mtbsync: warning: {message}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
