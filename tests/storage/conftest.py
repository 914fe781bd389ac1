"""The storage contract: every backend must pass the same tests.

`sqlite`, `postgresql` (a real server the tests start, a fresh database each test) and
`mongodb-fake` (the MongoDB backend on an in-memory driver-level fake) always run; `mongodb`
runs against a real server when `HYPERSEND_TEST_MONGODB_URI` is set.
"""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from hypersend.ids import new_id
from hypersend.storage import Storage
from hypersend.storage.mongo import MongoStorage, open_mongo_storage
from hypersend.storage.postgres import open_postgres_storage
from hypersend.storage.sqlite import open_sqlite_storage
from tests.support.mongo_fake import fake_mongo_client
from tests.support.postgres import PostgresProcess

REAL_MONGODB = os.environ.get("HYPERSEND_TEST_MONGODB_URI", "")
BACKENDS = ["sqlite", "postgresql", "mongodb-fake", *(["mongodb"] if REAL_MONGODB else [])]


@pytest.fixture(params=BACKENDS)
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    opened: Storage
    if request.param == "sqlite":
        opened = await open_sqlite_storage(tmp_path / "contract.db", durable=False)
    elif request.param == "postgresql":
        postgres: PostgresProcess = request.getfixturevalue("postgres")
        opened = await open_postgres_storage(postgres.new_database(), pool_size=4)
    elif request.param == "mongodb-fake":
        opened = await MongoStorage.connect(fake_mongo_client(), "contract")
    else:
        database = f"hypersend_contract_{new_id().lower()}"
        opened = await open_mongo_storage(REAL_MONGODB, database)
    yield opened
    if isinstance(opened, MongoStorage) and request.param == "mongodb":
        await opened.db.client.drop_database(opened.db.name)
    await opened.close()
