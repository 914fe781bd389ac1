"""A driver-level fake of PyMongo's async API: `mongomock` (an in-memory MongoDB written for
the synchronous driver) behind the few async methods the MongoDB backend calls.

Nothing of HyperSend's is faked: the backend's real code runs against it, and against a real
server when `HYPERSEND_TEST_MONGODB_URI` is set.
"""

from collections.abc import AsyncIterator
from typing import Any, Self, cast

import mongomock
from pymongo import AsyncMongoClient, ReplaceOne, UpdateOne

Document = dict[str, Any]


class FakeCursor:
    def __init__(self, cursor: Any) -> None:
        self._cursor = cursor

    def sort(self, key: Any, direction: int | None = None) -> Self:
        self._cursor = self._cursor.sort(key, direction) if direction else self._cursor.sort(key)
        return self

    def limit(self, count: int) -> Self:
        self._cursor = self._cursor.limit(count)
        return self

    async def to_list(self, length: int | None = None) -> list[Document]:
        return list(self._cursor)[:length] if length else list(self._cursor)

    async def __aiter__(self) -> AsyncIterator[Document]:
        for document in self._cursor:
            yield document


class FakeCollection:
    def __init__(self, collection: Any) -> None:
        self._collection = collection

    def find(self, *args: Any, **kwargs: Any) -> FakeCursor:
        return FakeCursor(self._collection.find(*args, **kwargs))

    async def aggregate(self, pipeline: list[Document]) -> FakeCursor:
        return FakeCursor(self._collection.aggregate(pipeline))

    async def bulk_write(self, requests: list[Any], ordered: bool = True) -> None:
        """mongomock's own bulk_write breaks on the newer driver's requests (`sort`), so
        the upserts of an import and the updates of an upgrade run one by one."""
        for request in requests:
            if isinstance(request, ReplaceOne):
                self._collection.replace_one(
                    request._filter, request._doc, upsert=bool(request._upsert)
                )
            elif isinstance(request, UpdateOne):
                self._collection.update_one(
                    request._filter, request._doc, upsert=bool(request._upsert)
                )
            else:
                raise NotImplementedError(f"fake bulk_write: {type(request).__name__}")

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._collection, name)

        async def call(*args: Any, **kwargs: Any) -> Any:
            return method(*args, **kwargs)

        return call


class FakeDatabase:
    def __init__(self, db: Any) -> None:
        self._db = db
        self.name: str = db.name

    def __getitem__(self, name: str) -> FakeCollection:
        return FakeCollection(self._db[name])

    async def command(self, name: str) -> Document:
        return {"ok": 1.0}


class FakeClient:
    def __init__(self) -> None:
        self._client: Any = mongomock.MongoClient(tz_aware=True)

    def __getitem__(self, name: str) -> FakeDatabase:
        return FakeDatabase(self._client[name])

    async def close(self) -> None:
        self._client.close()


def fake_mongo_client() -> AsyncMongoClient[Document]:
    """A fresh in-memory server, typed as the driver's client the backend expects."""
    return cast("AsyncMongoClient[Document]", FakeClient())
