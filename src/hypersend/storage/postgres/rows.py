"""Result rows that answer by column name and by position, as `sqlite3.Row` does, so the
shared repositories read PostgreSQL's rows and SQLite's alike."""

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from psycopg import Cursor


class Row:
    __slots__ = ("_positions", "_values")

    def __init__(self, positions: dict[str, int], values: Sequence[Any]) -> None:
        self._positions = positions
        self._values = values

    def __getitem__(self, key: str | int) -> Any:
        return self._values[self._positions[key] if isinstance(key, str) else key]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(self._positions)


def named_rows(cursor: Cursor[Any]) -> Callable[[Sequence[Any]], Row]:
    """psycopg's row factory for `Row`: the column positions are worked out once a query."""
    positions = {column.name: n for n, column in enumerate(cursor.description or ())}
    return lambda values: Row(positions, values)
