"""Access tokens (short-lived JWTs bound to a session) and rotating refresh tokens.

A refresh token is `<session_id>.<generation>.<mac>`, where the MAC binds the session, its
generation and the server's key. Only the current generation is accepted; an older genuine
one means the token was stolen or replayed, and the service revokes the whole session.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import timedelta

import jwt

from hypersend.clock import utcnow
from hypersend.errors import Unauthorized
from hypersend.ids import new_id
from hypersend.signatures import same_text

ALGORITHM = "HS256"

_GENERATION = re.compile(r"[0-9]{1,18}")  # ASCII digits only: int() refuses many others


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: str
    session_id: str


@dataclass(frozen=True, slots=True)
class UploadTicketClaims:
    """What an upload page's ticket allows: uploading into one chat, for one session."""

    user_id: str
    session_id: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class RefreshToken:
    session_id: str
    generation: int
    mac: str


class TokenCodec:
    def __init__(self, secret: str, access_lifetime: timedelta) -> None:
        self._secret = secret
        self._refresh_key = hmac.new(secret.encode(), b"refresh-token", hashlib.sha256).digest()
        self.access_lifetime = access_lifetime

    def issue_access(self, user_id: str, session_id: str) -> str:
        now = utcnow()
        claims = {
            "sub": user_id,
            "sid": session_id,
            "typ": "access",
            "jti": new_id(),
            "iat": now,
            "exp": now + self.access_lifetime,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode_access(self, token: str) -> AccessClaims:
        claims = self._decode(token, "access", ("sub", "sid"), "Access token")
        return AccessClaims(user_id=claims["sub"], session_id=claims["sid"])

    def issue_upload_ticket(
        self, user_id: str, session_id: str, chat_id: str, lifetime: timedelta
    ) -> str:
        """A token for the browser upload page; the API's other routes refuse it."""
        now = utcnow()
        claims = {
            "sub": user_id,
            "sid": session_id,
            "chat": chat_id,
            "typ": "upload",
            "iat": now,
            "exp": now + lifetime,
        }
        return jwt.encode(claims, self._secret, algorithm=ALGORITHM)

    def decode_upload_ticket(self, token: str) -> UploadTicketClaims:
        claims = self._decode(token, "upload", ("sub", "sid", "chat"), "Upload ticket")
        return UploadTicketClaims(claims["sub"], claims["sid"], claims["chat"])

    def _decode(self, token: str, kind: str, fields: tuple[str, ...], name: str) -> dict[str, str]:
        """The string `fields` of a JWT whose "typ" is `kind`; 401s name it `name`."""
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                options={"require": ["exp", "typ", *fields]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized(f"{name} expired", code="token_expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized(f"Invalid {name.lower()}", code="invalid_token") from exc
        values = {key: claims[key] for key in fields}
        if claims["typ"] != kind or not all(isinstance(v, str) for v in values.values()):
            raise Unauthorized(f"Invalid {name.lower()}", code="invalid_token")
        return values

    def issue_refresh(self, session_id: str, generation: int) -> str:
        return f"{session_id}.{generation}.{self._refresh_mac(session_id, generation)}"

    def parse_refresh(self, token: str) -> RefreshToken:
        """Check the token's MAC; raise 401 for anything this server did not issue."""
        parts = token.split(".")
        if len(parts) != 3 or not _GENERATION.fullmatch(parts[1]):
            raise Unauthorized("Invalid refresh token", code="invalid_token")
        session_id, generation_text, mac = parts
        generation = int(generation_text)
        if not same_text(mac, self._refresh_mac(session_id, generation)):
            raise Unauthorized("Invalid refresh token", code="invalid_token")
        return RefreshToken(session_id, generation, mac)

    def _refresh_mac(self, session_id: str, generation: int) -> str:
        message = f"{session_id}.{generation}".encode()
        return hmac.new(self._refresh_key, message, hashlib.sha256).hexdigest()
