"""What the SQL repositories need from a database, whichever engine is behind it.

The repositories in this package are written once, in the SQL that SQLite and PostgreSQL
share, as plain functions of a connection. Each engine's database object runs those
functions on worker threads, each call inside one transaction:

- `write(work)` runs `work` in one transaction. SQLite has one writer at a time; on
  PostgreSQL (READ COMMITTED) other processes' writes interleave with it statement by
  statement. So a write that reads and then decides either starts by updating the row it
  decides on (which locks it until the commit: later statements see everything committed
  before), or is a single conditional statement, or asks for `serializable=True`: then it
  runs as if it were the only writer, run again when PostgreSQL reports a conflict (for rare
  writes only: concurrent serializable writes conflict often).
- `read(work)` runs `work` outside any transaction: each statement sees what is committed
  when it starts (a single statement needs no more). `read(work, snapshot=True)` runs it in
  one read-only transaction, so that all its statements see the same moment.

Parameters are written `?` (positional) or `:name` (named), as in the `sqlite3` module;
the PostgreSQL connection translates them.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, TypeVar

from hypersend.storage.sql.text_search import TextSearch

T = TypeVar("T")

Parameters = Sequence[Any] | Mapping[str, Any]


class Row(Protocol):
    """One result row: by column name or by position."""

    def __getitem__(self, key: str | int, /) -> Any: ...


class SqlCursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def fetchmany(self, size: int = ..., /) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class SqlConnection(Protocol):
    def execute(self, sql: str, parameters: Parameters = ..., /) -> SqlCursor: ...

    def executemany(self, sql: str, parameters: Sequence[Parameters], /) -> SqlCursor: ...


class UniqueViolation(Exception):
    """A write broke a unique constraint; its whole transaction was rolled back."""


class SqlDatabase(Protocol):
    text_search: TextSearch
    """How this engine's full-text index over messages is asked."""

    async def write(self, work: Callable[[SqlConnection], T], *, serializable: bool = False) -> T:
        """Run `work` in one transaction (with `serializable`, as if it were the only
        writer); roll back if it raises. A unique constraint broken anywhere in it raises
        `UniqueViolation`."""
        ...

    async def read(self, work: Callable[[SqlConnection], T], *, snapshot: bool = False) -> T:
        """Run `work` read-only; with `snapshot`, every statement sees the same moment."""
        ...

    async def close(self) -> None: ...
