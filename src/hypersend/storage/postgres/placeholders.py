"""The shared SQL's parameters (`?` and `:name`, as in `sqlite3`) in psycopg's spelling
(`%s` and `%(name)s`). Quoted literals are left alone; a literal `%` is doubled."""

import re
from collections.abc import Sequence
from functools import lru_cache

import psycopg

from hypersend.storage.postgres.rows import Row
from hypersend.storage.sql.database import Parameters, SqlCursor

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


class SharedSqlConnection:
    """A psycopg connection speaking the shared SQL's parameter style."""

    __slots__ = ("_connection",)

    def __init__(self, connection: psycopg.Connection[Row]) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Parameters = (), /) -> SqlCursor:
        if not parameters:
            return self._connection.execute(sql)
        return self._connection.execute(to_psycopg(sql), parameters)

    def executemany(self, sql: str, parameters: Sequence[Parameters], /) -> SqlCursor:
        cursor = self._connection.cursor()
        if parameters:
            cursor.executemany(to_psycopg(sql), parameters)
        return cursor
