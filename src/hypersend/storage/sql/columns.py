"""How values are written to and read from SQL columns (SQLite and PostgreSQL alike)."""

import json
from datetime import UTC, datetime

from hypersend.storage.models import Reaction, Reactions


def to_db_time(moment: datetime) -> str:
    """Fixed-width ISO 8601 in UTC (`2026-11-30T22:30:07.895287Z`), so text order is time
    order. (`isoformat` and `fromisoformat` are C; `strftime`/`strptime` took 2-6x longer,
    several times for every row read.)"""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def from_db_time(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def to_db_reactions(reactions: Reactions) -> str | None:
    """A message's reactions as JSON text (`{"emoji": [user ids]}`, in order); None for none."""
    if not reactions:
        return None
    return json.dumps({r.emoji: r.user_ids for r in reactions}, ensure_ascii=False)


def from_db_reactions(text: str | None) -> Reactions:
    if not text:
        return ()
    return tuple(Reaction(emoji, tuple(users)) for emoji, users in json.loads(text).items())
