"""Typed dependencies that turn a bearer token into the calling user."""

from typing import Annotated

from fastapi import Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hypersend.auth.principals import Principal
from hypersend.auth.service import AuthService
from hypersend.errors import Unauthorized
from hypersend.services import ServicesDep
from hypersend.storage.models import User

_bearer = HTTPBearer(auto_error=False, description="An access token from `POST /auth/login`")


def get_auth_service(services: ServicesDep) -> AuthService:
    return services.auth


AuthServiceDep = Annotated[AuthService, Depends(get_auth_service)]


async def get_principal(
    auth: AuthServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("Missing bearer token")
    return await auth.authenticate(credentials.credentials)


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


async def get_current_user(principal: CurrentPrincipal) -> User:
    return principal.user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_optional_principal(
    auth: AuthServiceDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal | None:
    """The caller when a bearer token is sent; None when none is (for signed links)."""
    if credentials is None:
        return None
    return await get_principal(auth, credentials)


OptionalPrincipal = Annotated[Principal | None, Depends(get_optional_principal)]
