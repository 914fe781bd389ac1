"""Checking a `Range` header before the response streams, so errors keep the API's shape."""

import re

from hypersend.errors import BadRequest, RangeNotSatisfiable

# ASCII digits only, and no more than any file size needs (int() of thousands of digits raises).
_PART = re.compile(r"^\s*([0-9]{0,19})\s*-\s*([0-9]{0,19})\s*$", re.ASCII)
MAX_RANGES = 100


def requested_spans(header: str, size: int) -> list[tuple[int, int]]:
    """The (first, last) bytes of each part of a `Range` header that the file can satisfy,
    in order, overlapping and adjacent parts merged (as RFC 9110 lets a server do). Raise
    400 for a malformed header and 416 when no part of it can be satisfied."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        raise BadRequest("Malformed Range header", code="bad_range")
    parts = spec.split(",")
    if len(parts) > MAX_RANGES:
        raise BadRequest("Too many ranges", code="bad_range")
    spans: list[tuple[int, int]] = []
    for part in parts:
        match = _PART.match(part)
        if match is None or match.group(1) == match.group(2) == "":
            raise BadRequest("Malformed Range header", code="bad_range")
        first, last = match.groups()
        if first and last and int(last) < int(first):
            raise BadRequest("Malformed Range header", code="bad_range")
        if not first and int(last) > 0:  # the last `last` bytes
            spans.append((max(0, size - int(last)), size - 1))
        elif first and int(first) < size:
            spans.append((int(first), min(size - 1, int(last)) if last else size - 1))
    if not spans:
        raise RangeNotSatisfiable(
            "Requested range is beyond the end of the file",
            headers={"Content-Range": f"bytes */{size}"},
        )
    spans.sort()
    merged = [spans[0]]
    for first, last in spans[1:]:
        if first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged
