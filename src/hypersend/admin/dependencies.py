from typing import Annotated

from fastapi import Depends

from hypersend.admin.service import AdminService
from hypersend.auth.dependencies import CurrentUser
from hypersend.errors import Forbidden
from hypersend.services import ServicesDep
from hypersend.storage.models import User


async def require_admin(user: CurrentUser) -> User:
    if not user.is_admin:
        raise Forbidden("Only an admin may do this", code="admin_only")
    return user


def get_admin_service(services: ServicesDep) -> AdminService:
    return services.admin


AdminUser = Annotated[User, Depends(require_admin)]
AdminServiceDep = Annotated[AdminService, Depends(get_admin_service)]
