"""Helpers shared by the subcommand modules: the progress display for ``--quiet``-aware commands."""

from __future__ import annotations


def progress_for(args):
    """A progress display (rich bars on stderr, see :mod:`.display`) unless ``--quiet`` was given."""
    if getattr(args, "quiet", False):
        return None
    from .display import StageBars

    return StageBars()
