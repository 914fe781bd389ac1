"""Checking a `Range` header before the response streams, so errors keep the API's shape."""

import re

from hypersend.errors import BadRequest, RangeNotSatisfiable

# ASCII digits only, and no more than any file size needs (int() of thousands of digits raises).
_PART = re.compile(r"^\s*([0-9]{0,19})\s*-\s*([0-9]{0,19})\s*$", re.ASCII)
MAX_RANGES = 100


def requested_spans(header: str, size: int) -> list[tuple[int, int]]:
    """The (first, last) bytes each satisfiable part of a checked `Range` asks for, in order,
    overlapping and adjacent parts merged (as RFC 9110 lets a server do)."""
    check_range(header, size)
    spans: list[tuple[int, int]] = []
    for part in header.partition("=")[2].split(","):
        match = _PART.match(part)
        assert match is not None  # checked above
        first, last = match.groups()
        if not first:  # the last `last` bytes
            span = (max(0, size - int(last)), size - 1)
        elif int(first) < size:
            span = (int(first), min(size - 1, int(last)) if last else size - 1)
        else:
            continue
        spans.append(span)
    spans.sort()
    merged = [spans[0]]
    for first, last in spans[1:]:
        if first <= merged[-1][1] + 1:
            merged[-1] = (merged[-1][0], max(merged[-1][1], last))
        else:
            merged.append((first, last))
    return merged


def check_range(header: str, size: int) -> None:
    """Raise 400 for a malformed header and 416 when no part of it can be satisfied."""
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or not spec.strip():
        raise BadRequest("Malformed Range header", code="bad_range")
    parts = spec.split(",")
    if len(parts) > MAX_RANGES:
        raise BadRequest("Too many ranges", code="bad_range")
    satisfiable = False
    for part in parts:
        match = _PART.match(part)
        if match is None or match.group(1) == match.group(2) == "":
            raise BadRequest("Malformed Range header", code="bad_range")
        first, last = match.groups()
        if first and last and int(last) < int(first):
            raise BadRequest("Malformed Range header", code="bad_range")
        if (first and int(first) < size) or (not first and int(last) > 0):
            satisfiable = True
    if not satisfiable:
        raise RangeNotSatisfiable(
            "Requested range is beyond the end of the file",
            headers={"Content-Range": f"bytes */{size}"},
        )
