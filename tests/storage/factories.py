"""Records for the storage contract tests."""

from datetime import timedelta

from hypersend.clock import utcnow
from hypersend.ids import new_id
from hypersend.storage.models import Chat, FileRecord, Message, Session, Transfer, User


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


def make_chat(creator: User, *, direct_key: str | None = None, title: str = "") -> Chat:
    now = utcnow()
    return Chat(
        id=new_id(),
        type="direct" if direct_key else "group",
        title=title,
        created_by=creator.id,
        created_at=now,
        updated_at=now,
        direct_key=direct_key,
    )


def make_message(
    chat: Chat, sender: User, text: str = "hi", *, client_id: str | None = None
) -> Message:
    return Message(
        id=new_id(),
        chat_id=chat.id,
        sender_id=sender.id,
        kind="text",
        text=text,
        file=None,
        created_at=utcnow(),
        client_id=client_id,
    )


def make_file(
    owner: User, *, size: int = 10, chunk_size: int = 4, chat: Chat | None = None
) -> FileRecord:
    now = utcnow()
    return FileRecord(
        id=new_id(),
        owner_id=owner.id,
        chat_id=chat.id if chat else None,
        filename="report.pdf",
        size=size,
        mime="application/pdf",
        chunk_size=chunk_size,
        total_chunks=-(-size // chunk_size),
        status="uploading",
        created_at=now,
        expires_at=now + timedelta(hours=1),
    )


def make_transfer(sender: User, receiver: User, *, chat: Chat | None = None) -> Transfer:
    now = utcnow()
    return Transfer(
        id=new_id(),
        sender_id=sender.id,
        receiver_id=receiver.id,
        chat_id=chat.id if chat else None,
        filename="film.mkv",
        size=1000,
        status="offered",
        created_at=now,
        expires_at=now + timedelta(minutes=10),
    )
