"""The CLI's saved state: which server it talks to and the session's tokens (owner-only file)."""

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hypersend.client import AuthError, HyperSendClient, HyperSendError, Tokens

DEFAULT_PROFILE_PATH = Path.home() / ".config" / "hypersend" / "cli.json"
DEFAULT_SERVER = "http://127.0.0.1:8000"


class ProfileUnusable(HyperSendError):
    """The profile file cannot be read or written (a directory, bad JSON, no permission)."""


@dataclass(slots=True)
class Profile:
    path: Path
    server: str = DEFAULT_SERVER
    tokens: Tokens | None = None

    @classmethod
    def load(cls, path: Path) -> "Profile":
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text())
            tokens = Tokens.from_json(data["tokens"]) if data.get("tokens") else None
            return cls(path, data.get("server", DEFAULT_SERVER), tokens)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ProfileUnusable(f"cannot read the profile {path}: {_reason(exc)}") from exc

    def save(self) -> None:
        data: dict[str, Any] = {"server": self.server}
        if self.tokens is not None:
            data["tokens"] = self.tokens.to_json()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:
            raise ProfileUnusable(f"cannot write the profile {self.path}: {_reason(exc)}") from exc
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle, indent=2)

    def remember(self, tokens: Tokens | None) -> None:
        self.tokens = tokens
        self.save()


def _reason(exc: Exception) -> str:
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return "not a HyperSend profile (JSON with a server and tokens)"


def profile_from_args(args: Any) -> Profile:
    profile = Profile.load(Path(args.profile))
    if args.server:
        profile.server = args.server
    return profile


@asynccontextmanager
async def signed_in_client(args: Any) -> AsyncIterator[HyperSendClient]:
    """A client for the profile's server and session; refreshed tokens are saved as they come."""
    profile = profile_from_args(args)
    if profile.tokens is None:
        raise AuthError(401, "not_signed_in", "Not signed in: run `hypersend login EMAIL` first")
    async with HyperSendClient(
        profile.server, tokens=profile.tokens, on_tokens=profile.remember
    ) as client:
        yield client
