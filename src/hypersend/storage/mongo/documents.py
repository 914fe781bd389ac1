"""Records to MongoDB documents and back. Ids are the documents' `_id`s."""

from datetime import datetime
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from hypersend.storage.models import (
    Chat,
    ChatMember,
    FileRecord,
    FileRef,
    Invite,
    Message,
    Quote,
    Reaction,
    Reactions,
    Session,
    Transfer,
    User,
)
from hypersend.storage.words import words

Document = dict[str, Any]
Database = AsyncDatabase[Document]


def user_doc(user: User) -> Document:
    return {
        "_id": user.id,
        "email": user.email,
        "name": user.name,
        "name_key": user.name.lower(),
        "password_hash": user.password_hash,
        "created_at": user.created_at,
        "is_admin": user.is_admin,
        "disabled": user.disabled,
        "quota_bytes": user.quota_bytes,
        "presence_hidden": user.presence_hidden,
        "last_seen_at": user.last_seen_at,
    }


def to_user(doc: Document) -> User:
    return User(
        id=doc["_id"],
        email=doc["email"],
        name=doc["name"],
        password_hash=doc["password_hash"],
        created_at=doc["created_at"],
        is_admin=doc["is_admin"],
        disabled=doc["disabled"],
        quota_bytes=doc["quota_bytes"],
        presence_hidden=doc.get("presence_hidden", False),
        last_seen_at=doc.get("last_seen_at"),
    )


def session_doc(session: Session) -> Document:
    return {
        "_id": session.id,
        "user_id": session.user_id,
        "created_at": session.created_at,
        "expires_at": session.expires_at,
        "refresh_generation": session.refresh_generation,
        "revoked": session.revoked,
        "client_address": session.client_address,
        "user_agent": session.user_agent,
    }


def to_session(doc: Document) -> Session:
    return Session(
        id=doc["_id"],
        user_id=doc["user_id"],
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
        refresh_generation=doc["refresh_generation"],
        revoked=doc["revoked"],
        client_address=doc["client_address"],
        user_agent=doc["user_agent"],
    )


def invite_doc(invite: Invite) -> Document:
    return {
        "_id": invite.code,
        "created_by": invite.created_by,
        "created_at": invite.created_at,
        "expires_at": invite.expires_at,
        "max_uses": invite.max_uses,
        "uses": invite.uses,
    }


def to_invite(doc: Document) -> Invite:
    return Invite(
        code=doc["_id"],
        created_by=doc["created_by"],
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
        max_uses=doc["max_uses"],
        uses=doc["uses"],
    )


def chat_doc(chat: Chat) -> Document:
    doc: Document = {
        "_id": chat.id,
        "type": chat.type,
        "title": chat.title,
        "created_by": chat.created_by,
        "created_at": chat.created_at,
        "updated_at": chat.updated_at,
        "last_message_id": None,
        "last_seq": 0,
    }
    if chat.direct_key is not None:  # absent, not null: the unique index is sparse
        doc["direct_key"] = chat.direct_key
    return doc


def to_chat(doc: Document) -> Chat:
    return Chat(
        id=doc["_id"],
        type=doc["type"],
        title=doc["title"],
        created_by=doc["created_by"],
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        direct_key=doc.get("direct_key"),
    )


def member_doc(
    chat_id: str,
    user_id: str,
    joined_at: datetime,
    last_read_message_id: str | None = None,
    last_read_seq: int = 0,
    pinned_at: datetime | None = None,
    muted: bool = False,
) -> Document:
    return {
        "_id": f"{chat_id}/{user_id}",
        "chat_id": chat_id,
        "user_id": user_id,
        "joined_at": joined_at,
        "last_read_message_id": last_read_message_id,
        "last_read_seq": last_read_seq,
        "pinned_at": pinned_at,
        "muted": muted,
    }


def to_member(doc: Document, name: str) -> ChatMember:
    return ChatMember(
        chat_id=doc["chat_id"],
        user_id=doc["user_id"],
        name=name,
        joined_at=doc["joined_at"],
        last_read_message_id=doc.get("last_read_message_id"),
        last_read_seq=doc.get("last_read_seq", 0),
        pinned_at=doc.get("pinned_at"),
        muted=doc.get("muted", False),
    )


def client_key(sender_id: str, client_id: str) -> str:
    """What makes a send idempotent: one message per sender and `client_id`."""
    return f"{sender_id}/{client_id}"


def message_doc(message: Message) -> Document:
    doc: Document = {
        "_id": message.id,
        "chat_id": message.chat_id,
        "seq": message.seq,
        "sender_id": message.sender_id,
        "kind": message.kind,
        "text": message.text,
        "file_id": message.file.id if message.file else None,
        "client_id": message.client_id,
        "created_at": message.created_at,
        "deleted": message.deleted,
        "edited_at": message.edited_at,
        "reply_to_id": message.reply_to_id,
        "reactions": reactions_doc(message.reactions),
        "search_words": search_words(message.text, message.file.filename if message.file else None),
    }
    if message.client_id is not None:  # absent, not null: the unique index is sparse
        doc["client_key"] = client_key(message.sender_id, message.client_id)
    return doc


def search_words(text: str | None, file_name: str | None) -> list[str]:
    """What a message keeps for search: the words of its text and its file's name, under a
    multikey index; a search asks for a word starting with each of the query's words (an
    anchored regular expression, which the index answers by range)."""
    return words(f"{text or ''} {file_name or ''}")


def to_message(
    doc: Document, files: dict[str, FileRef], quotes: dict[str, Quote] | None = None
) -> Message:
    """`files`: the refs of the messages' files that still exist, by id; `quotes`: the
    messages they answer, by id."""
    reply_to_id = doc.get("reply_to_id")
    return Message(
        id=doc["_id"],
        chat_id=doc["chat_id"],
        sender_id=doc["sender_id"],
        kind=doc["kind"],
        text=doc["text"],
        file=files.get(doc["file_id"]) if doc["file_id"] else None,
        created_at=doc["created_at"],
        deleted=doc["deleted"],
        client_id=doc["client_id"],
        seq=doc["seq"],
        edited_at=doc.get("edited_at"),
        reply_to_id=reply_to_id,
        quote=(quotes or {}).get(reply_to_id) if reply_to_id else None,
        reactions=to_reactions(doc.get("reactions")),
    )


def reactions_doc(reactions: Reactions) -> list[Document]:
    return [{"emoji": r.emoji, "user_ids": list(r.user_ids)} for r in reactions]


def to_reactions(docs: list[Document] | None) -> Reactions:
    return tuple(Reaction(doc["emoji"], tuple(doc["user_ids"])) for doc in docs or ())


def chunk_doc(file_id: str, index: int, sha256: bytes) -> Document:
    return {"_id": f"{file_id}/{index}", "file_id": file_id, "idx": index, "sha256": sha256}


def file_doc(record: FileRecord) -> Document:
    return {
        "_id": record.id,
        "owner_id": record.owner_id,
        "chat_id": record.chat_id,
        "filename": record.filename,
        "size": record.size,
        "mime": record.mime,
        "chunk_size": record.chunk_size,
        "total_chunks": record.total_chunks,
        "status": record.status,
        "content_hash": record.content_hash,
        "created_at": record.created_at,
        "expires_at": record.expires_at,
        "completed_at": record.completed_at,
        "store_upload_id": record.store_upload_id,
        "tus_metadata": record.tus_metadata,
        "staged_chunk": record.staged_chunk,
        "staged_bytes": record.staged_bytes,
        "thumbnail_due": record.thumbnail_due,
    }


def to_file(doc: Document) -> FileRecord:
    return FileRecord(
        id=doc["_id"],
        owner_id=doc["owner_id"],
        chat_id=doc["chat_id"],
        filename=doc["filename"],
        size=doc["size"],
        mime=doc["mime"],
        chunk_size=doc["chunk_size"],
        total_chunks=doc["total_chunks"],
        status=doc["status"],
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
        content_hash=doc["content_hash"],
        completed_at=doc["completed_at"],
        store_upload_id=doc.get("store_upload_id"),
        tus_metadata=doc.get("tus_metadata"),
        staged_chunk=doc.get("staged_chunk", 0),
        staged_bytes=doc.get("staged_bytes", 0),
        thumbnail_due=doc.get("thumbnail_due", False),
    )


def transfer_doc(transfer: Transfer) -> Document:
    return {
        "_id": transfer.id,
        "sender_id": transfer.sender_id,
        "receiver_id": transfer.receiver_id,
        "chat_id": transfer.chat_id,
        "filename": transfer.filename,
        "size": transfer.size,
        "status": transfer.status,
        "bytes_relayed": transfer.bytes_relayed,
        "reason": transfer.reason,
        "created_at": transfer.created_at,
        "expires_at": transfer.expires_at,
        "relay_node": transfer.relay_node,
    }


def to_transfer(doc: Document) -> Transfer:
    return Transfer(
        id=doc["_id"],
        sender_id=doc["sender_id"],
        receiver_id=doc["receiver_id"],
        chat_id=doc["chat_id"],
        filename=doc["filename"],
        size=doc["size"],
        status=doc["status"],
        created_at=doc["created_at"],
        expires_at=doc["expires_at"],
        bytes_relayed=doc["bytes_relayed"],
        reason=doc["reason"],
        relay_node=doc.get("relay_node"),
    )
