from dataclasses import replace
from datetime import timedelta

from hypersend.clock import utcnow
from hypersend.storage import Storage
from hypersend.storage.models import Invite
from tests.storage.factories import make_user


def make_invite(code: str, *, max_uses: int = 1, hours: float = 1) -> Invite:
    now = utcnow()
    return Invite(
        code=code,
        created_by=None,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        max_uses=max_uses,
    )


async def test_invite_uses_count_up_to_the_limit(storage: Storage) -> None:
    await storage.invites.create(make_invite("twice", max_uses=2))
    now = utcnow()
    assert await storage.invites.use("twice", now)
    assert await storage.invites.use("twice", now)
    assert not await storage.invites.use("twice", now)
    invite = await storage.invites.get("twice")
    assert invite is not None
    assert invite.uses == 2
    await storage.invites.release("twice")
    assert await storage.invites.use("twice", now)
    assert not await storage.invites.use("unknown", now)


async def test_expired_invites_cannot_be_used(storage: Storage) -> None:
    await storage.invites.create(make_invite("old", hours=1))
    assert not await storage.invites.use("old", utcnow() + timedelta(hours=2))


async def test_invites_list_newest_first_and_delete(storage: Storage) -> None:
    admin = make_user("Admin")
    await storage.users.create(admin)
    first = replace(make_invite("first"), created_by=admin.id)
    second = replace(make_invite("second"), created_at=first.created_at + timedelta(seconds=1))
    await storage.invites.create(first)
    await storage.invites.create(second)
    assert await storage.invites.list_all() == [second, first]
    assert await storage.invites.delete("first")
    assert not await storage.invites.delete("first")
    assert [invite.code for invite in await storage.invites.list_all()] == ["second"]
