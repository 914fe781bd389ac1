"""The long-lived objects one running server shares, built once at startup."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

from hypersend.auth.passwords import PasswordHasher
from hypersend.auth.service import AuthService
from hypersend.config import Settings
from hypersend.storage import Storage


@dataclass(slots=True)
class Services:
    settings: Settings
    storage: Storage
    auth: AuthService


def build_services(settings: Settings, storage: Storage) -> Services:
    return Services(
        settings=settings,
        storage=storage,
        auth=AuthService(storage, settings, PasswordHasher()),
    )


def get_services(connection: HTTPConnection) -> Services:
    services: Services = connection.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]
