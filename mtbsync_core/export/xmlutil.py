"""Small XML helpers for the FCPXML and xmeml readers: parse with line numbers, clear errors."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

from ..errors import ImportMarkersError

LINE_ATTR = "{urn:mtbsync}line"


def xml_declaration() -> str:
    """The XML declaration every writer starts with."""
    return '<?xml version="1.0" encoding="UTF-8"?>\n'


def line_of(el: ET.Element) -> str:
    """`` line N`` for messages, or empty when unknown."""
    line = el.get(LINE_ATTR)
    return f" line {line}" if line else ""


def parse_xml(path: str | Path, what: str) -> ET.Element:
    """Parse ``path``; raise :class:`ImportMarkersError` with the line of any syntax error."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as err:
        raise ImportMarkersError(f"Cannot read {what} '{p}': {err.strerror or err}.") from err
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()
    parser.buffer_text = True

    def start(tag: str, attrs: dict[str, str]) -> None:
        builder.start(tag, {**attrs, LINE_ATTR: str(parser.CurrentLineNumber)})

    parser.StartElementHandler = start
    parser.EndElementHandler = builder.end
    parser.CharacterDataHandler = builder.data
    try:
        parser.Parse(data, True)
    except expat.ExpatError as err:
        raise ImportMarkersError(
            f"'{p}' line {err.lineno}, column {err.offset + 1}: malformed "
            f"{what} ({expat.ErrorString(err.code)})."
        ) from err
    except (LookupError, ValueError) as err:  # an unknown encoding in the declaration
        raise ImportMarkersError(
            f"'{p}': cannot read this {what} ({str(err)[:80]}). Save it as UTF-8 XML."
        ) from err
    return builder.close()


def child_text(el: ET.Element, tag: str, default: str = "") -> str:
    """Stripped text of the first ``tag`` child, or ``default``."""
    child = el.find(tag)
    if child is None or child.text is None:
        return default
    return child.text.strip()
