"""The one place that tells the time, always in UTC.

Times are kept to the millisecond, the precision of MongoDB's dates, so that every backend
gives back exactly the time it was given.
"""

from datetime import UTC, datetime


def utcnow() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
