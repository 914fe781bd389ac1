"""The one Python client for HyperSend, used by the CLI, the app, the tests and the benchmarks.

async with HyperSendClient("http://127.0.0.1:8000") as client:
    await client.login("ada@example.com", "correct horse")
    me = await client.me()
"""

import ssl
import uuid
from pathlib import Path
from typing import Any, Self
from urllib.parse import quote

from hypersend.client import p2p
from hypersend.client.admin import AccountInfo, AdminApi, InviteInfo
from hypersend.client.errors import (
    ApiError,
    AuthError,
    ConflictError,
    HyperSendError,
    InvalidInput,
    NotFoundError,
    PermissionDenied,
    RateLimited,
    ServerUnreachable,
    TooLargeError,
)
from hypersend.client.events import Event, EventStream, FollowedEvents
from hypersend.client.http import ApiSession, TokenListener
from hypersend.client.models import (
    Chat,
    Found,
    Message,
    MessagePage,
    Presence,
    Reaction,
    SearchPage,
    Tokens,
    UserInfo,
)
from hypersend.client.transfers import (
    FileInfo,
    IntegrityError,
    Progress,
    download,
    file_info,
    upload,
)

__all__ = [
    "AccountInfo",
    "ApiError",
    "AuthError",
    "Chat",
    "ConflictError",
    "Event",
    "EventStream",
    "FileInfo",
    "FollowedEvents",
    "Found",
    "HyperSendClient",
    "HyperSendError",
    "IntegrityError",
    "InvalidInput",
    "InviteInfo",
    "Message",
    "MessagePage",
    "NotFoundError",
    "PermissionDenied",
    "Presence",
    "RateLimited",
    "Reaction",
    "SearchPage",
    "ServerUnreachable",
    "Tokens",
    "TooLargeError",
    "UserInfo",
]


class HyperSendClient:
    def __init__(
        self,
        base_url: str,
        *,
        tokens: Tokens | None = None,
        on_tokens: TokenListener | None = None,
        ssl_context: ssl.SSLContext | None = None,
        on_behalf_of: tuple[str, str] | None = None,
    ) -> None:
        """`base_url` may have a path, e.g. `https://chat.example.com/api` behind nginx;
        `ssl_context` trusts a server whose certificate the system does not (a private CA);
        `on_behalf_of` is (address, user agent) of the person a web front end serves."""
        self.api = ApiSession(
            base_url,
            tokens=tokens,
            on_tokens=on_tokens,
            ssl_context=ssl_context,
            on_behalf_of=on_behalf_of,
        )
        self.admin = AdminApi(self.api)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self.api.close()

    @property
    def base_url(self) -> str:
        return self.api.base_url

    @property
    def tokens(self) -> Tokens | None:
        return self.api.tokens

    async def health(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.api.json("GET", "/health", authenticated=False)
        return result

    async def registration_policy(self) -> str:
        data = await self.api.json("GET", "/auth/policy", authenticated=False)
        return str(data["registration"])

    async def register(
        self, email: str, password: str, name: str, *, invite_code: str | None = None
    ) -> UserInfo:
        body = {"email": email, "password": password, "name": name}
        if invite_code:
            body["invite_code"] = invite_code
        data = await self.api.json("POST", "/auth/register", json=body, authenticated=False)
        return UserInfo.from_json(data)

    async def login(self, email: str, password: str) -> Tokens:
        data = await self.api.json(
            "POST",
            "/auth/login",
            json={"email": email, "password": password},
            authenticated=False,
        )
        tokens = Tokens.from_json(data)
        self.api.set_tokens(tokens)
        return tokens

    async def refresh(self) -> Tokens:
        """New tokens now (every request also refreshes by itself once the access token
        has expired)."""
        return await self.api.refresh()

    async def logout(self) -> None:
        try:
            await self.api.request("POST", "/auth/logout")
        finally:
            self.api.set_tokens(None)

    async def me(self) -> UserInfo:
        return UserInfo.from_json(await self.api.json("GET", "/users/me"))

    async def presence(self, user_id: str) -> Presence:
        """Whether someone one shares a chat with is online, or when they were last seen."""
        return Presence.from_json(await self.api.json("GET", f"/users/{user_id}/presence"))

    async def hide_presence(self, hidden: bool = True) -> None:
        """Hide (or show again) when one is online and was last seen."""
        await self.api.json("PATCH", "/users/me", json={"presence_hidden": hidden})

    async def search_users(self, query: str) -> list[UserInfo]:
        data = await self.api.json("GET", "/users/search", params={"q": query})
        return [UserInfo.from_json(item) for item in data]

    # Chats

    async def open_direct_chat(self, user_id: str) -> Chat:
        """The direct chat with a user, created the first time."""
        body = {"type": "direct", "member_ids": [user_id]}
        return Chat.from_json(await self.api.json("POST", "/chats/", json=body))

    async def create_group(self, title: str, member_ids: list[str]) -> Chat:
        body = {"type": "group", "title": title, "member_ids": member_ids}
        return Chat.from_json(await self.api.json("POST", "/chats/", json=body))

    async def list_chats(self) -> list[Chat]:
        return [Chat.from_json(item) for item in await self.api.json("GET", "/chats/")]

    async def get_chat(self, chat_id: str) -> Chat:
        return Chat.from_json(await self.api.json("GET", f"/chats/{chat_id}"))

    async def pin_chat(self, chat_id: str, *, pinned: bool = True) -> Chat:
        """Pin a chat to the top of one's list (or unpin it)."""
        method = "PUT" if pinned else "DELETE"
        return Chat.from_json(await self.api.json(method, f"/chats/{chat_id}/pin"))

    async def mute_chat(self, chat_id: str, *, muted: bool = True) -> Chat:
        """Mute a chat for oneself (or unmute it)."""
        method = "PUT" if muted else "DELETE"
        return Chat.from_json(await self.api.json(method, f"/chats/{chat_id}/mute"))

    async def add_member(self, chat_id: str, user_id: str) -> Chat:
        data = await self.api.json("POST", f"/chats/{chat_id}/members", json={"user_id": user_id})
        return Chat.from_json(data)

    async def remove_member(self, chat_id: str, user_id: str) -> None:
        await self.api.request("DELETE", f"/chats/{chat_id}/members/{user_id}")

    # Messages

    async def send_message(
        self,
        chat_id: str,
        text: str | None = None,
        *,
        file_id: str | None = None,
        client_id: str | None = None,
        reply_to: str | None = None,
    ) -> Message:
        """Post a message (answering `reply_to`, a message of the same chat). A `client_id`
        (one is made up if not given) makes retries safe."""
        body: dict[str, Any] = {"chat_id": chat_id, "client_id": client_id or str(uuid.uuid4())}
        if reply_to is not None:
            body["reply_to"] = reply_to
        if text is not None:
            body["text"] = text
        if file_id is not None:
            body["file_id"] = file_id
        return Message.from_json(await self.api.json("POST", "/messages/", json=body))

    async def messages(
        self,
        chat_id: str,
        *,
        before: str | None = None,
        after: str | None = None,
        limit: int = 50,
    ) -> MessagePage:
        params: dict[str, Any] = {"limit": limit}
        if before is not None:
            params["before"] = before
        if after is not None:
            params["after"] = after
        data = await self.api.json("GET", f"/chats/{chat_id}/messages", params=params)
        return MessagePage.from_json(data)

    async def search_messages(
        self,
        query: str,
        *,
        chat_id: str | None = None,
        before: str | None = None,
        limit: int = 50,
    ) -> SearchPage:
        """Messages of one's chats (or of `chat_id`) with words starting with each word of
        `query`, newest first; `before` (a message id) pages further back."""
        params: dict[str, Any] = {"q": query, "limit": limit}
        if chat_id is not None:
            params["chat_id"] = chat_id
        if before is not None:
            params["before"] = before
        return SearchPage.from_json(await self.api.json("GET", "/messages/search", params=params))

    async def mark_read(self, message_id: str) -> str:
        """Mark a message and all before it read; returns the new read pointer."""
        data = await self.api.json("PATCH", f"/messages/{message_id}/read")
        return str(data["last_read_message_id"])

    async def edit_message(self, message_id: str, text: str) -> Message:
        """Change the text of one's own text message (within the server's edit window)."""
        data = await self.api.json("PATCH", f"/messages/{message_id}", json={"text": text})
        return Message.from_json(data)

    async def forward_message(self, message_id: str, chat_id: str) -> Message:
        """Post a message again into another of one's chats (a file by reference)."""
        data = await self.api.json(
            "POST", f"/messages/{message_id}/forward", json={"chat_id": chat_id}
        )
        return Message.from_json(data)

    async def react(self, message_id: str, emoji: str, *, remove: bool = False) -> Message:
        """Put one's `emoji` on a message (or take it away); again changes nothing."""
        method = "DELETE" if remove else "PUT"
        path = f"/messages/{message_id}/reactions/{quote(emoji, safe='')}"
        return Message.from_json(await self.api.json(method, path))

    async def delete_message(self, message_id: str) -> None:
        await self.api.request("DELETE", f"/messages/{message_id}")

    # Real-time

    async def connect_events(self) -> EventStream:
        """One `/ws` connection (use `async with`)."""
        return await EventStream.open(self.api)

    def follow_events(self) -> FollowedEvents:
        """Events forever, reconnecting by itself; yields `{"type": "reconnected"}` after
        each reconnection so the caller can catch up, and raises `AuthError` once the
        session has ended. Its `typing()` sends typing notices."""
        return FollowedEvents(self.api)

    # Files

    async def upload_file(
        self,
        path: Path,
        *,
        chat_id: str | None = None,
        mime: str | None = None,
        parallel: int = 4,
        progress: Progress | None = None,
        state_dir: Path | None = None,
    ) -> FileInfo:
        """Upload with parallel chunk streams; run it again after any crash to resume."""
        return await upload(
            self.api,
            path,
            chat_id=chat_id,
            mime=mime,
            parallel=parallel,
            progress=progress,
            state_dir=state_dir,
        )

    async def download_file(
        self, file_id: str, destination: Path, *, progress: Progress | None = None
    ) -> Path:
        """Download and verify; an interrupted download resumes from `<destination>.part`."""
        return await download(self.api, file_id, destination, progress=progress)

    async def file_info(self, file_id: str) -> FileInfo:
        return await file_info(self.api, file_id)

    async def download_link(self, file_id: str) -> str:
        return str((await self.api.json("GET", f"/files/{file_id}/link"))["url"])

    async def upload_page_link(self, chat_id: str) -> str:
        """A browser page that sends a file of any size into the chat (for the web app)."""
        data = await self.api.json("POST", "/files/upload-page", json={"chat_id": chat_id})
        return str(data["url"])

    async def thumbnail(self, file_id: str) -> bytes:
        """The small JPEG preview of an image (`Attachment.has_thumbnail`); at most a few
        tens of KB, so it is read whole."""
        return (await self.api.request("GET", f"/files/{file_id}/thumbnail")).content

    async def delete_file(self, file_id: str) -> None:
        await self.api.request("DELETE", f"/files/{file_id}")

    async def send_file(
        self, chat_id: str, path: Path, *, progress: Progress | None = None, parallel: int = 4
    ) -> Message:
        """Upload a file into a chat and post it there as a file message."""
        info = await self.upload_file(path, chat_id=chat_id, progress=progress, parallel=parallel)
        return await self.send_message(chat_id, file_id=info.file_id)

    # P2P transfers

    async def offer_transfer(
        self, receiver_id: str, path: Path, *, chat_id: str | None = None
    ) -> dict[str, Any]:
        """Offer a file to a user; the server stores only its metadata."""
        return await p2p.offer(self.api, receiver_id, path, chat_id=chat_id)

    async def transfer(self, transfer_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.api.json("GET", f"/p2p/transfers/{transfer_id}")
        return result

    async def transfers(
        self, *, chat_id: str | None = None, open_only: bool = False
    ) -> list[dict[str, Any]]:
        """Your transfers, sent and received, newest first."""
        params: dict[str, Any] = {"open": open_only}
        if chat_id:
            params["chat_id"] = chat_id
        result: list[dict[str, Any]] = await self.api.json("GET", "/p2p/transfers", params=params)
        return result

    async def cancel_transfer(self, transfer_id: str) -> None:
        await self.api.request("DELETE", f"/p2p/transfers/{transfer_id}")

    async def send_transfer(
        self, transfer_id: str, path: Path, *, progress: Progress | None = None
    ) -> None:
        await p2p.send(self.api, transfer_id, path, progress=progress)

    async def receive_transfer(
        self, transfer_id: str, directory: Path, *, progress: Progress | None = None
    ) -> Path:
        return await p2p.receive(self.api, transfer_id, directory, progress=progress)
