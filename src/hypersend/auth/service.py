"""Accounts and sessions: registering, signing in, rotating tokens, signing out."""

from collections.abc import Awaitable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TypeVar

from hypersend.auth.passwords import PasswordHasher
from hypersend.auth.principals import Principal, PrincipalCache
from hypersend.auth.schemas import TokenPair
from hypersend.auth.throttle import LoginThrottle
from hypersend.auth.tokens import TokenCodec
from hypersend.clock import utcnow
from hypersend.config import RegistrationPolicy, Settings
from hypersend.errors import Conflict, Forbidden, TooManyRequests, Unauthorized
from hypersend.ids import new_id
from hypersend.realtime.bus import EventBus
from hypersend.storage import Storage
from hypersend.storage.errors import DuplicateError
from hypersend.storage.models import Session, User

T = TypeVar("T")


class AuthService:
    def __init__(
        self,
        storage: Storage,
        settings: Settings,
        hasher: PasswordHasher,
        bus: EventBus,
        *,
        principals: PrincipalCache,
        throttle: LoginThrottle,
    ) -> None:
        self._storage = storage
        self._bus = bus
        self._settings = settings
        self._hasher = hasher
        self._principals = principals
        self._throttle = throttle
        self.tokens = TokenCodec(
            settings.signing_key, timedelta(minutes=settings.access_token_minutes)
        )

    async def registration_policy(self) -> RegistrationPolicy:
        """The configured policy; unset means open for the first account, then invite-only."""
        if self._settings.registration_policy is not None:
            return self._settings.registration_policy
        return "open" if await self._storage.users.count() == 0 else "invite"

    async def register(
        self, email: str, password: str, name: str, *, invite_code: str | None = None
    ) -> User:
        """Self-service sign-up under the registration policy. The server's first account
        (unless registration is closed) needs no invite and becomes its admin: the store
        decides which sign-up is first, however many processes take them at once."""
        policy = self._settings.registration_policy
        if policy == "closed":
            raise Forbidden(
                "Registration on this server is closed; ask its admin for an account",
                code="registration_closed",
            )
        user = await self._new_user(email, password, name, is_admin=False)
        if await self._storage.users.count() == 0:
            first = replace(user, is_admin=True)
            if await self._stored(self._storage.users.create_first(first)):
                return first
        if policy == "open":
            await self._stored(self._storage.users.create(user))
            return user
        if not invite_code:
            raise Forbidden(
                "Registration on this server needs an invite code", code="invite_required"
            )
        if not await self._storage.invites.use(invite_code, utcnow()):
            raise Forbidden(
                "This invite code is unknown, used up or expired", code="invite_invalid"
            )
        try:
            await self._stored(self._storage.users.create(user))
        except Conflict:
            await self._storage.invites.release(invite_code)
            raise
        return user

    async def create_account(self, email: str, password: str, name: str, *, is_admin: bool) -> User:
        user = await self._new_user(email, password, name, is_admin=is_admin)
        await self._stored(self._storage.users.create(user))
        return user

    async def _new_user(self, email: str, password: str, name: str, *, is_admin: bool) -> User:
        return User(
            id=new_id(),
            email=email,
            name=name,
            password_hash=await self._hasher.hash(password),
            created_at=utcnow(),
            is_admin=is_admin,
        )

    @staticmethod
    async def _stored(write: Awaitable[T]) -> T:
        """Run a write that creates an account; a taken email is a 409."""
        try:
            return await write
        except DuplicateError as exc:
            raise Conflict("An account with this email exists", code="email_taken") from exc

    async def set_password(self, user: User, password: str) -> None:
        """Replace a user's password and end all their sessions."""
        await self._storage.users.set_password_hash(user.id, await self._hasher.hash(password))
        await self.end_all_sessions(user.id)

    async def end_all_sessions(self, user_id: str) -> None:
        """Revoke every session of the user and close their WebSockets, on every process."""
        await self._storage.sessions.revoke_all_for_user(user_id)
        await self._bus.user_ended(user_id)

    async def login(
        self, email: str, password: str, *, client_address: str, user_agent: str
    ) -> TokenPair:
        wait = await self._throttle.retry_after(email, client_address)
        if wait:
            raise TooManyRequests("Too many failed sign-ins; try again later", retry_after=wait)
        user = await self._storage.users.get_by_email(email)
        if user is None:
            await self._hasher.burn_time(password)
            valid, upgraded_hash = False, None
        else:
            valid, upgraded_hash = await self._hasher.verify(password, user.password_hash)
        if user is None or not valid:
            await self._throttle.record_failure(email, client_address)
            raise Unauthorized("Wrong email or password", code="invalid_credentials")
        if user.disabled:
            raise Forbidden("This account is disabled", code="account_disabled")
        await self._throttle.record_success(email, client_address)
        if upgraded_hash:
            await self._storage.users.set_password_hash(user.id, upgraded_hash)
        now = utcnow()
        session = Session(
            id=new_id(),
            user_id=user.id,
            created_at=now,
            expires_at=now + self._refresh_lifetime,
            client_address=client_address,
            user_agent=user_agent[:300],
        )
        await self._storage.sessions.create(session)
        return self._token_pair(session.user_id, session.id, session.refresh_generation)

    async def refresh(self, refresh_token: str) -> TokenPair:
        token = self.tokens.parse_refresh(refresh_token)
        session = await self._storage.sessions.get(token.session_id)
        if session is None or session.revoked or session.expires_at <= utcnow():
            raise Unauthorized("Session has ended", code="session_ended")
        rotated = token.generation == session.refresh_generation and (
            await self._storage.sessions.rotate_refresh(
                session.id,
                from_generation=token.generation,
                expires_at=utcnow() + self._refresh_lifetime,
            )
        )
        if not rotated:
            await self.logout(session.id)
            raise Unauthorized(
                "Refresh token was already used; the session is revoked", code="token_reused"
            )
        return self._token_pair(session.user_id, session.id, token.generation + 1)

    async def logout(self, session_id: str) -> None:
        """Revoke the session: its tokens stop working and its WebSockets close, on every
        process, before this returns."""
        await self._storage.sessions.revoke(session_id)
        await self._bus.session_ended(session_id)

    async def authenticate(self, access_token: str) -> Principal:
        claims = self.tokens.decode_access(access_token)
        return await self.principal(claims.user_id, claims.session_id)

    def issue_upload_ticket(self, principal: Principal, chat_id: str) -> tuple[str, datetime]:
        """A ticket for the browser upload page: uploads into `chat_id` while the session
        lasts, for `UPLOAD_PAGE_HOURS`."""
        lifetime = timedelta(hours=self._settings.upload_page_hours)
        ticket = self.tokens.issue_upload_ticket(
            principal.user.id, principal.session.id, chat_id, lifetime
        )
        return ticket, utcnow() + lifetime

    async def authenticate_ticket(self, ticket: str) -> tuple[Principal, str]:
        """The caller of the upload page and the chat its ticket uploads into."""
        claims = self.tokens.decode_upload_ticket(ticket)
        return await self.principal(claims.user_id, claims.session_id), claims.chat_id

    async def forget_user(self, user_id: str) -> None:
        """The account changed (name, role, quota, status): read it afresh next time."""
        await self._bus.user_changed(user_id)

    async def principal(self, user_id: str, session_id: str) -> Principal:
        """Who is signed in with an open session (cached; `Unauthorized` once it ended or the
        account is disabled)."""
        known = self._principals.get(session_id)
        if known is not None and known.user.id == user_id:
            return known
        generation = self._principals.generation()
        session = await self._storage.sessions.get(session_id)
        if session is None or session.revoked or session.user_id != user_id:
            raise Unauthorized("Session has ended", code="session_ended")
        user = await self._storage.users.get(user_id)
        if user is None or user.disabled:
            raise Unauthorized("Account is not available", code="account_unavailable")
        principal = Principal(user=user, session=session)
        self._principals.put(principal, generation)
        return principal

    @property
    def _refresh_lifetime(self) -> timedelta:
        return timedelta(days=self._settings.refresh_token_days)

    def _token_pair(self, user_id: str, session_id: str, generation: int) -> TokenPair:
        return TokenPair(
            access_token=self.tokens.issue_access(user_id, session_id),
            refresh_token=self.tokens.issue_refresh(session_id, generation),
            expires_in=int(self.tokens.access_lifetime.total_seconds()),
        )
