"""``mtbsync`` subcommands for this area (see :mod:`mtbsync_core.cli`)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add this area's subcommands to sub."""
