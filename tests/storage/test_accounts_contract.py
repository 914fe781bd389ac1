from dataclasses import replace
from datetime import timedelta

import pytest

from hypersend.clock import utcnow
from hypersend.storage import Storage
from hypersend.storage.errors import DuplicateError
from tests.storage.factories import make_session, make_user


async def test_users_round_trip(storage: Storage) -> None:
    user = make_user("Ada")
    await storage.users.create(user)
    assert await storage.users.get(user.id) == user
    assert await storage.users.get_by_email(user.email) == user
    assert await storage.users.get("missing") is None
    assert await storage.users.count() == 1


async def test_email_is_unique(storage: Storage) -> None:
    await storage.users.create(make_user(email="same@example.test"))
    with pytest.raises(DuplicateError):
        await storage.users.create(make_user(email="same@example.test"))
    assert await storage.users.count() == 1


async def test_only_one_first_account(storage: Storage) -> None:
    first, second = make_user("First"), make_user("Second")
    assert await storage.users.create_first(first)
    assert not await storage.users.create_first(second)
    assert await storage.users.get(second.id) is None
    assert await storage.users.count() == 1
    with pytest.raises(DuplicateError):
        await storage.users.create(make_user(email=first.email))


async def test_the_first_account_is_not_claimed_over_existing_users(storage: Storage) -> None:
    await storage.users.create(make_user("Imported"))
    assert not await storage.users.create_first(make_user("Late"))
    assert await storage.users.count() == 1


async def test_search_matches_name_or_email_literally(storage: Storage) -> None:
    ada = make_user("Ada Lovelace", "ada@example.test")
    percent = make_user("100% Real", "real@example.test")
    me = make_user("Me", "me@example.test")
    for user in (ada, percent, me):
        await storage.users.create(user)
    assert [u.id for u in await storage.users.search("LOVE", limit=5, exclude_id=me.id)] == [ada.id]
    assert [u.id for u in await storage.users.search("%", limit=5, exclude_id=me.id)] == [
        percent.id
    ]
    assert await storage.users.search("me@", limit=5, exclude_id=me.id) == []
    assert len(await storage.users.search("example", limit=1, exclude_id=me.id)) == 1


async def test_get_many_and_password_update(storage: Storage) -> None:
    users = [make_user(f"U{i}") for i in range(3)]
    for user in users:
        await storage.users.create(user)
    found = await storage.users.get_many([users[0].id, users[2].id, "missing"])
    assert {u.id for u in found} == {users[0].id, users[2].id}
    await storage.users.set_password_hash(users[1].id, "new-hash")
    updated = await storage.users.get(users[1].id)
    assert updated is not None
    assert updated.password_hash == "new-hash"


async def test_refresh_rotation_is_compare_and_set(storage: Storage) -> None:
    user = make_user()
    await storage.users.create(user)
    session = make_session(user)
    await storage.sessions.create(session)
    later = utcnow() + timedelta(days=2)
    assert await storage.sessions.rotate_refresh(session.id, from_generation=0, expires_at=later)
    assert not await storage.sessions.rotate_refresh(
        session.id, from_generation=0, expires_at=later
    )
    stored = await storage.sessions.get(session.id)
    assert stored is not None
    assert stored.refresh_generation == 1
    assert abs((stored.expires_at - later).total_seconds()) < 0.001


async def test_revocation(storage: Storage) -> None:
    user = make_user()
    await storage.users.create(user)
    first, second = make_session(user), make_session(user)
    await storage.sessions.create(first)
    await storage.sessions.create(second)
    await storage.sessions.revoke(first.id)
    revoked = await storage.sessions.get(first.id)
    assert revoked is not None
    assert revoked.revoked
    assert not await storage.sessions.rotate_refresh(
        first.id, from_generation=0, expires_at=utcnow()
    )
    await storage.sessions.revoke_all_for_user(user.id)
    other = await storage.sessions.get(second.id)
    assert other is not None
    assert other.revoked


async def test_update_saves_role_status_quota_and_name(storage: Storage) -> None:
    user = make_user("Before")
    await storage.users.create(user)
    changed = replace(user, name="After", is_admin=True, disabled=True, quota_bytes=1000)
    await storage.users.update(changed)
    assert await storage.users.get(user.id) == changed
    await storage.users.update(replace(changed, quota_bytes=None))
    reloaded = await storage.users.get(user.id)
    assert reloaded is not None
    assert reloaded.quota_bytes is None


async def test_users_are_listed_page_by_page_in_id_order(storage: Storage) -> None:
    users = [make_user(f"U{i}") for i in range(5)]
    for user in users:
        await storage.users.create(user)
    ids = sorted(user.id for user in users)
    first = await storage.users.list_page(after=None, limit=3)
    rest = await storage.users.list_page(after=first[-1].id, limit=3)
    assert [u.id for u in first + rest] == ids


async def test_presence_settings_and_last_seen_are_kept(storage: Storage) -> None:
    ann = make_user("Ann")
    await storage.users.create(ann)
    assert (await storage.users.get(ann.id)) == ann
    when = utcnow()
    await storage.users.set_last_seen(ann.id, when)
    await storage.users.update(replace(ann, presence_hidden=True))  # keeps the last seen
    stored = await storage.users.get(ann.id)
    assert stored is not None
    assert stored.presence_hidden
    assert stored.last_seen_at is not None
    assert abs((stored.last_seen_at - when).total_seconds()) < 0.001
