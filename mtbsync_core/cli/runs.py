"""``mtbsync index | sync | warp refit | transfer | demo``."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    """Add the run-to-run subcommands to ``sub``."""
