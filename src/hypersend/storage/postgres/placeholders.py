"""The shared SQL's parameters (`?` and `:name`, as in `sqlite3`) in psycopg's spelling
(`%s` and `%(name)s`). Quoted literals are left alone; a literal `%` is doubled."""

import re
from functools import lru_cache

_TOKENS = re.compile(r"'[^']*'|\?|(?<!:):(\w+)|%")


@lru_cache(maxsize=1024)
def to_psycopg(sql: str) -> str:
    return _TOKENS.sub(_swap, sql)


def _swap(match: re.Match[str]) -> str:
    found = match.group(0)
    if found.startswith("'"):
        return found
    if found == "?":
        return "%s"
    if found == "%":
        return "%%"
    return f"%({match.group(1)})s"
