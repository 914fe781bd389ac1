"""Finding people to chat with, without letting anyone harvest the server's email addresses."""

from hypersend.config import UserDirectory
from hypersend.storage import Storage
from hypersend.storage.models import User

SEARCH_LIMIT = 20


class UserService:
    def __init__(self, storage: Storage, directory: UserDirectory) -> None:
        self._storage = storage
        self._directory = directory

    async def search(self, user: User, text: str) -> list[User]:
        """Anyone by their exact email; by name or part of an email, the people the caller
        shares a chat with (or everyone, when the server's `USER_DIRECTORY` says so)."""
        text = text.strip()
        contacts_of = None if self._directory == "everyone" else user.id
        found = await self._storage.users.search(
            text, limit=SEARCH_LIMIT, exclude_id=user.id, contacts_of=contacts_of
        )
        exact = await self._storage.users.get_by_email(text.lower()) if "@" in text else None
        if exact is None or exact.disabled or exact.id == user.id:
            return found
        return [exact, *(other for other in found if other.id != exact.id)][:SEARCH_LIMIT]
