"""FCPXML exports validated against the Apple DTD of the version they declare (issue 13).

The DTDs live in the shared data folder beside the checkout (``../shared/data/fcpxml-dtd``, or
``$MTBSYNC_FCPXML_DTD_DIR``); they are never copied into the repository.
"""

from __future__ import annotations

import os
import warnings
from fractions import Fraction
from pathlib import Path

import pytest
from export_samples import RATES, placed, sample_markers

from mtbsync_core.export import export_to_string

DTD_DIR = Path(
    os.environ.get("MTBSYNC_FCPXML_DTD_DIR")
    or Path(__file__).resolve().parents[3] / "shared" / "data" / "fcpxml-dtd"
)


def _validate(text: str) -> None:
    etree = pytest.importorskip("lxml.etree", reason="lxml (the dev extra) validates DTDs")
    doc = etree.fromstring(text.encode("utf-8"))
    version = doc.get("version")
    dtd_path = DTD_DIR / f"FCPXMLv{version.replace('.', '_')}.dtd"
    if not dtd_path.is_file():
        pytest.skip(f"Apple's FCPXML {version} DTD not found at {dtd_path} (shared data absent)")
    dtd = etree.DTD(str(dtd_path))
    assert dtd.validate(doc), dtd.error_log.filter_from_errors()


@pytest.mark.parametrize("label", sorted(RATES))
@pytest.mark.parametrize("drop_frame", [None, False])
def test_fcpxml_export_is_valid_against_its_dtd(label, drop_frame):
    fps = RATES[label]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        text = export_to_string(
            "fcpxml",
            sample_markers(),
            fps=fps,
            start_tc="10:00:00:00",
            duration_s=80.0,
            video_path="/footage/new run.mp4",
            width=3840,
            height=2160,
            drop_frame=drop_frame,
            audio_channels=2,
            audio_rate_hz=48000,
        )
    _validate(text)


def test_fcpxml_export_without_video_or_audio_is_valid():
    _validate(export_to_string("fcpxml", placed(sample_markers()), fps=Fraction(25)))


def test_dtd_check_catches_an_invalid_document():
    """The validation is real: an attribute the DTD does not know is refused."""
    text = export_to_string("fcpxml", placed(sample_markers()), fps=Fraction(25))
    with pytest.raises(AssertionError):
        _validate(text.replace("<asset ", '<asset bogusAttribute="1" ', 1))
