"""The long-lived objects one running server process shares, built once at startup.

What a process keeps in memory (sockets, caches, relays) is gathered in `LocalState`; the
event bus keeps it right when several processes serve the same users (`REDIS_URL`), and
`Coordination` decides what only one process may do. See `cluster/__init__.py`.
"""

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends
from redis.asyncio import Redis
from starlette.requests import HTTPConnection

from hypersend.admin.service import AdminService
from hypersend.auth.passwords import PasswordHasher
from hypersend.auth.principals import PrincipalCache
from hypersend.auth.service import AuthService
from hypersend.auth.throttle import FailureCounter, LoginThrottle, MemoryFailures, RedisFailures
from hypersend.chats.membership import MembershipCache
from hypersend.chats.service import ChatService
from hypersend.cluster.coordination import Coordination, RedisCoordination, SoleProcess
from hypersend.cluster.jobs import run_every
from hypersend.cluster.redis_client import connect_redis
from hypersend.config import Settings
from hypersend.files.service import FileService
from hypersend.files.stores import open_file_store
from hypersend.files.tus.service import TusService
from hypersend.ids import new_id
from hypersend.messages.service import MessageService
from hypersend.realtime.bus import EventBus, LocalState
from hypersend.realtime.hub import ConnectionHub
from hypersend.realtime.presence import LocalPresence, RedisPresence
from hypersend.realtime.redis_bus import RedisEventBus
from hypersend.storage import Storage
from hypersend.transfers.link import LinkClient, LinkServer, LinkSigner
from hypersend.transfers.relay import RelayRegistry
from hypersend.transfers.relaying import Relaying
from hypersend.transfers.service import TransferService
from hypersend.users.presence import PresenceService
from hypersend.users.service import UserService

EXPIRY_CHECK_SECONDS = 5.0


@dataclass(slots=True)
class Services:
    settings: Settings
    storage: Storage
    node_id: str
    hub: ConnectionHub
    bus: EventBus
    coordination: Coordination
    auth: AuthService
    admin: AdminService
    chats: ChatService
    files: FileService
    tus: TusService
    messages: MessageService
    transfers: TransferService
    relaying: Relaying
    users: UserService
    presence: PresenceService
    redis: Redis | None = None
    link_server: LinkServer | None = None

    async def start(self) -> list[asyncio.Task[Any]]:
        """Join the other processes (if any), then start the background work."""
        link_address = ""
        if self.redis is not None:
            self.link_server = LinkServer(LinkSigner(self.settings.signing_key))
            link_address = await self.link_server.start(
                self.settings.relay_link_host, self.relaying.serve_link
            )
        await self.coordination.start(link_address)
        await self.bus.start()
        await self.transfers.fail_stopped_relays()
        housekeeper = self.coordination.is_housekeeper
        return [
            asyncio.create_task(self.coordination.run_forever()),
            asyncio.create_task(
                run_every(self.settings.sweep_interval_seconds, self.files.sweep, when=housekeeper)
            ),
            asyncio.create_task(
                run_every(EXPIRY_CHECK_SECONDS, self.transfers.expire, when=housekeeper)
            ),
        ]

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.coordination.leave()
        await self.bus.close()
        await self.files.store.close()
        if self.link_server is not None:
            await self.link_server.close()
        if self.redis is not None:
            await self.redis.aclose()


async def open_services(settings: Settings, storage: Storage) -> Services:
    """The services of a server process: alone, or sharing Redis with others."""
    redis = await connect_redis(settings.redis_url) if settings.uses_redis else None
    return build_services(settings, storage, redis)


def build_services(settings: Settings, storage: Storage, redis: Redis | None = None) -> Services:
    node_id = new_id()
    hub = ConnectionHub(settings.ws_queue_size)
    principals = PrincipalCache()
    memberships = MembershipCache(storage)
    relays = RelayRegistry()
    local = LocalState(hub, principals, memberships, relays)
    bus = EventBus(local) if redis is None else RedisEventBus(local, redis, origin=node_id)
    coordination: Coordination = (
        SoleProcess(node_id)
        if redis is None
        else RedisCoordination(redis, node_id, lease_seconds=settings.lease_seconds)
    )
    chats = ChatService(storage, bus, memberships)
    files = FileService(storage, settings, chats, open_file_store(settings))
    auth = AuthService(
        storage,
        settings,
        PasswordHasher(),
        bus,
        principals=principals,
        throttle=_login_throttle(settings, redis),
    )
    transfers = TransferService(
        storage,
        bus,
        chats,
        settings.p2p_offer_expiry_seconds,
        relays=relays,
        coordination=coordination,
    )
    messages = MessageService(
        storage,
        bus,
        chats,
        files,
        max_chars=settings.max_message_chars,
        edit_window=timedelta(hours=settings.message_edit_hours),
    )
    return Services(
        settings=settings,
        storage=storage,
        node_id=node_id,
        hub=hub,
        bus=bus,
        coordination=coordination,
        auth=auth,
        admin=AdminService(storage, auth),
        chats=chats,
        files=files,
        tus=TusService(files, messages, storage),
        messages=messages,
        transfers=transfers,
        relaying=Relaying(
            transfers, relays, coordination, LinkClient(LinkSigner(settings.signing_key))
        ),
        users=UserService(storage, settings.user_directory),
        presence=PresenceService(
            storage,
            bus,
            LocalPresence()
            if redis is None
            else RedisPresence(redis, node_id, coordination.live_nodes),
        ),
        redis=redis,
    )


def _login_throttle(settings: Settings, redis: Redis | None) -> LoginThrottle:
    window = settings.login_failure_window_seconds

    def counter(name: str, limit: int) -> FailureCounter:
        if redis is None:
            return MemoryFailures(limit, window)
        return RedisFailures(redis, name, limit, window)

    return LoginThrottle(
        counter("account-client", settings.login_max_failures_per_account_and_client),
        counter("client", settings.login_max_failures_per_client),
        counter("account", settings.login_max_failures_per_account),
    )


def get_services(connection: HTTPConnection) -> Services:
    services: Services = connection.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
