"""Every failure a user can act on has one class here, all under :class:`MtbSyncError`.

Messages say what failed, the offending value or file, and what to do. The CLI prints the
message on one line and exits with the class's ``exit_code``; the app shows it with ``st.error``.

Exit codes (documented in the README):

==  ==========================================================
1   any other MtbSyncError (bad input file, failed export ...)
2   usage error (argparse)
3   an output exists and ``--force`` was not given
4   no reliable match between the two videos
5   a reference index does not match the video or parameters
6   a batch finished, but not every run synced (``mtbsync batch``; see summary.csv)
==  ==========================================================
"""

from __future__ import annotations


class MtbSyncError(Exception):
    """Root of every error the user can act on."""

    exit_code: int = 1


class VideoOpenError(MtbSyncError):
    """A file could not be opened or decoded as video (missing, empty, truncated, no video)."""


class AudioMissingError(MtbSyncError):
    """A file has no usable audio stream where audio is needed."""


class FeaturelessVideoError(MtbSyncError):
    """A video has too little texture to match (a flat or black recording)."""


class IndexMismatchError(MtbSyncError):
    """A reference index was built from another file or with other parameters."""

    exit_code = 5


class IndexFileError(MtbSyncError):
    """A reference index file is unreadable or of an unknown version."""


class NoReliableMatchError(MtbSyncError):
    """Two videos could not be aligned with any confidence (unrelated or wrong trail)."""

    exit_code = 4


class WarpFitError(MtbSyncError):
    """A time warp could not be fitted (too few pairs, contradictory anchors)."""


class WarpFileError(MtbSyncError):
    """A warp.json file is unreadable or not in the mtbsync.warp format."""


class MarkerFileError(MtbSyncError):
    """A markers file is malformed (missing columns, non-numeric time); names the line."""


class GpsParseError(MtbSyncError):
    """A GPX / FIT / telemetry track could not be read; names the line or record."""


class ExportError(MtbSyncError):
    """An editor export could not be written."""


class ImportMarkersError(MtbSyncError):
    """An editor file (EDL / FCPXML / xmeml) could not be read as markers."""


class MulticamError(MtbSyncError):
    """Simultaneous cameras could not be put on one timeline."""


class BatchError(MtbSyncError):
    """A batch cannot start: no runs found, a bad executor or an unreachable Dask scheduler."""


class StitchError(MtbSyncError):
    """Copies of one recording cannot be stitched (other sizes or rates, no overlap, bad metadata)."""


class ChapterError(MtbSyncError):
    """Chapter files cannot be joined (not one set, a gap, a seam that loses or doubles a frame)."""


class OutputError(MtbSyncError):
    """An output cannot be written there (a file where a folder should be, no permission)."""


class OutputExistsError(MtbSyncError):
    """An output file exists and overwriting was not allowed."""

    exit_code = 3


class OutputLockedError(OutputError):
    """Another run is writing the same output folder."""


class HighlightError(MtbSyncError):
    """Highlights could not be found, read, scored or cut (no usable signal, bad labels file)."""
