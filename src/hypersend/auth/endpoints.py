from fastapi import APIRouter, Request, Response, status

from hypersend.auth.dependencies import AuthServiceDep, CurrentPrincipal
from hypersend.auth.schemas import (
    LoginRequest,
    RefreshRequest,
    RegisterRequest,
    RegistrationPolicyOut,
    TokenPair,
)
from hypersend.client_address import client_address
from hypersend.json_body import JsonRoute
from hypersend.services import ServicesDep
from hypersend.users.schemas import UserOut

router = APIRouter(prefix="/auth", tags=["auth"], route_class=JsonRoute)


@router.post("/register", status_code=status.HTTP_201_CREATED, response_model=UserOut)
async def register(body: RegisterRequest, auth: AuthServiceDep) -> UserOut:
    user = await auth.register(body.email, body.password, body.name, invite_code=body.invite_code)
    return UserOut.of(user)


@router.post("/login")
async def login(
    body: LoginRequest, request: Request, auth: AuthServiceDep, services: ServicesDep
) -> TokenPair:
    return await auth.login(
        body.email,
        body.password,
        client_address=client_address(request, services.settings.trusted_proxies),
        user_agent=request.headers.get("user-agent", ""),
    )


@router.post("/refresh")
async def refresh(body: RefreshRequest, auth: AuthServiceDep) -> TokenPair:
    return await auth.refresh(body.refresh_token)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT)
async def logout(principal: CurrentPrincipal, auth: AuthServiceDep) -> Response:
    await auth.logout(principal.session.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/policy")
async def registration_policy(auth: AuthServiceDep) -> RegistrationPolicyOut:
    return RegistrationPolicyOut(registration=await auth.registration_policy())
