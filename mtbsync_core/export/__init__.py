"""Editor exports and imports: Resolve marker EDL, FCPXML, Premiere XML (xmeml), CSV, JSON.

Each format is a pure ``*_to_string`` plus a reader; :func:`write_export` reads the frame rate
and start timecode from the video and writes atomically. Written by hand (no OpenTimelineIO).
"""

from .api import (
    FORMATS,
    NO_TIMECODE_START_TC,
    SUFFIXES,
    export_to_string,
    read_markers_file,
    sniff_format,
    video_export_options,
    write_export,
)
from .csv_json import csv_to_string, json_to_string, reference_csv_to_string
from .edl import edl_to_string, read_edl
from .fcpxml import fcpxml_to_string, read_fcpxml
from .premiere import premiere_xml_to_string, read_premiere_xml

__all__ = [
    "FORMATS",
    "NO_TIMECODE_START_TC",
    "SUFFIXES",
    "csv_to_string",
    "edl_to_string",
    "export_to_string",
    "fcpxml_to_string",
    "json_to_string",
    "premiere_xml_to_string",
    "read_edl",
    "read_fcpxml",
    "read_markers_file",
    "read_premiere_xml",
    "reference_csv_to_string",
    "sniff_format",
    "video_export_options",
    "write_export",
]
