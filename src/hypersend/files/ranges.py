"""Checking a `Range` header before the response streams, so errors keep the API's shape."""

import re

from hypersend.errors import BadRequest, RangeNotSatisfiable

# ASCII digits only, and no more than any file size needs (int() of thousands of digits raises).
_PART = re.compile(r"^\s*([0-9]{0,19})\s*-\s*([0-9]{0,19})\s*$", re.ASCII)
MAX_RANGES = 100


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
