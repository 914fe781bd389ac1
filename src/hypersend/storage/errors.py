"""Storage-level failures that the domains translate into API errors."""


class StorageError(Exception):
    """Base class of storage failures the caller can act on."""


class DuplicateError(StorageError):
    """A unique constraint (such as a user's email) would be broken."""


class StorageUnavailable(StorageError):
    """The database cannot be reached (or the write could not get through); nothing the
    caller asked for was done, or it is not known whether it was: try again shortly."""
