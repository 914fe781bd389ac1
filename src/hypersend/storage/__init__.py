"""Persistence behind one narrow interface; the domains never import a database driver."""

from hypersend.storage.interface import Storage, open_storage

__all__ = ["Storage", "open_storage"]
