"""The long-lived objects one running server shares, built once at startup."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from hypersend.admin.service import AdminService
from hypersend.auth.passwords import PasswordHasher
from hypersend.auth.service import AuthService
from hypersend.chats.service import ChatService
from hypersend.config import Settings
from hypersend.files.service import FileService
from hypersend.messages.service import MessageService
from hypersend.realtime.bus import EventBus, InProcessEventBus
from hypersend.realtime.hub import ConnectionHub
from hypersend.storage import Storage
from hypersend.transfers.service import TransferService


@dataclass(slots=True)
class Services:
    settings: Settings
    storage: Storage
    hub: ConnectionHub
    bus: EventBus
    auth: AuthService
    admin: AdminService
    chats: ChatService
    files: FileService
    messages: MessageService
    transfers: TransferService


def build_services(settings: Settings, storage: Storage) -> Services:
    hub = ConnectionHub(settings.ws_queue_size)
    bus = InProcessEventBus(hub)
    chats = ChatService(storage, bus)
    files = FileService(storage, settings, chats)
    auth = AuthService(storage, settings, PasswordHasher(), bus)
    return Services(
        settings=settings,
        storage=storage,
        hub=hub,
        bus=bus,
        auth=auth,
        admin=AdminService(storage, auth),
        chats=chats,
        files=files,
        messages=MessageService(storage, bus, chats, files, settings.max_message_chars),
        transfers=TransferService(storage, bus, chats, settings.p2p_offer_expiry_seconds),
    )


def get_services(connection: HTTPConnection) -> Services:
    services: Services = connection.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
