"""The optional database drivers, and what to say when one is missing."""

from importlib.util import find_spec
from typing import Literal

OptionalStore = Literal["postgresql", "mongodb"]

DRIVERS: dict[OptionalStore, str] = {"postgresql": "psycopg", "mongodb": "pymongo"}
"""Each optional store's driver, installed by the extra of the store's name."""


def missing_driver(store: OptionalStore) -> str | None:
    """Why `store` cannot be used here (its driver is not installed), or None."""
    module = DRIVERS[store]
    if find_spec(module) is not None:
        return None
    return f'{module} is missing: pip install "hypersend[{store}]"'
