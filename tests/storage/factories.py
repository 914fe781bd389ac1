"""Records for the storage contract tests."""

from datetime import timedelta

from hypersend.clock import utcnow
from hypersend.ids import new_id
from hypersend.storage.models import Session, User


def make_user(name: str = "Someone", email: str | None = None) -> User:
    user_id = new_id()
    return User(
        id=user_id,
        email=email or f"{user_id.lower()}@example.test",
        name=name,
        password_hash="$argon2id$placeholder",
        created_at=utcnow(),
    )


def make_session(user: User) -> Session:
    now = utcnow()
    return Session(id=new_id(), user_id=user.id, created_at=now, expires_at=now + timedelta(days=1))
