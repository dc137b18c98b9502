"""Chapters and redundant recordings: GoPro chapter sets joined, damaged frames replaced from copies.

``stitch_recordings`` builds one clean video from several copies of one recording (receivers,
DVRs, two cards), choosing per frame the copy the damage detector finds intact;
``find_chapter_sets`` / ``join_chapters`` turn a GoPro chapter set into one file, losslessly.
"""

from __future__ import annotations

from .damage import CandidateScore, DamageParams, score_candidates
from .engine import StitchResult, stitch_recordings
from .metadata import FrameMetadata, parse_column_map, read_frame_metadata

__all__ = [
    "CandidateScore",
    "DamageParams",
    "FrameMetadata",
    "StitchResult",
    "parse_column_map",
    "read_frame_metadata",
    "score_candidates",
    "stitch_recordings",
]
