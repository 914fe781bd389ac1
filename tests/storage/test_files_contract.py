import hashlib
from dataclasses import replace
from datetime import timedelta

from hypersend.clock import utcnow
from hypersend.content_hash import content_hash
from hypersend.storage import Storage
from hypersend.storage.models import Thumbnail
from tests.storage.factories import make_chat, make_file, make_message, make_user


async def test_chunks_complete_the_file_in_any_order_and_twice_is_harmless(
    storage: Storage,
) -> None:
    owner = make_user()
    await storage.users.create(owner)
    record = make_file(owner, size=10, chunk_size=4)  # chunks 0, 1, 2
    await storage.files.create(record)
    digests = [hashlib.sha256(bytes([i])).digest() for i in range(3)]
    later = utcnow() + timedelta(hours=2)
    assert await storage.files.bytes_uploading(owner.id) == 10

    for _ in range(2):
        receipt = await storage.files.record_chunk(record.id, 2, digests[2], expires_at=later)
        assert (receipt.received_chunks, receipt.complete) == (1, False)
    assert await storage.files.chunk_count(record.id) == 1
    receipt = await storage.files.record_chunk(record.id, 0, digests[0], expires_at=later)
    assert (receipt.received_chunks, receipt.complete) == (2, False)
    assert await storage.files.chunk_digests(record.id) == {0: digests[0], 2: digests[2]}
    assert await storage.files.chunk_count(record.id) == 2
    assert await storage.files.chunk_digest(record.id, 2) == digests[2]
    assert await storage.files.chunk_digest(record.id, 1) is None
    uploading = await storage.files.get(record.id)
    assert uploading is not None
    assert uploading.expires_at == later

    receipt = await storage.files.record_chunk(record.id, 1, digests[1], expires_at=later)
    assert (receipt.received_chunks, receipt.complete) == (3, True)
    done = await storage.files.get(record.id)
    assert done is not None
    assert done.status == "complete"
    assert done.content_hash == content_hash(digests)
    assert done.expires_at is None
    assert done.completed_at is not None
    assert await storage.files.bytes_uploading(owner.id) == 0
    assert await storage.files.bytes_used(owner.id) == 10
    again = await storage.files.record_chunk(record.id, 1, digests[1], expires_at=later)
    assert again.complete


async def test_usage_visibility_and_deletion(storage: Storage) -> None:
    owner, member, stranger = make_user("Owner"), make_user("Member"), make_user("Stranger")
    for user in (owner, member, stranger):
        await storage.users.create(user)
    chat = make_chat(owner, title="shared")
    await storage.chats.create(chat, [owner.id, member.id])
    kept, shared = make_file(owner, size=100), make_file(owner, size=50)
    await storage.files.create(kept)
    await storage.files.create(shared)
    assert await storage.files.bytes_used(owner.id) == 150
    assert await storage.files.bytes_used_by([owner.id, member.id]) == {owner.id: 150}

    assert await storage.files.visible_to(shared.id, owner.id)
    assert not await storage.files.visible_to(shared.id, member.id)
    message = replace(make_message(chat, owner, ""), kind="file", text=None, file=shared.ref)
    await storage.messages.create(message)
    assert await storage.files.visible_to(shared.id, member.id)
    assert not await storage.files.visible_to(shared.id, stranger.id)
    in_chat = make_file(owner, chat=chat)
    await storage.files.create(in_chat)
    assert await storage.files.visible_to(in_chat.id, member.id)

    assert await storage.files.delete(shared.id)
    assert not await storage.files.delete(shared.id)
    assert await storage.files.get(shared.id) is None
    assert await storage.files.chunk_digests(shared.id) == {}
    assert not await storage.files.visible_to(shared.id, owner.id)
    orphaned = await storage.messages.get(message.id)
    assert orphaned is not None
    assert orphaned.file is None


async def test_expiring_uploads_and_old_completed_files_are_found(storage: Storage) -> None:
    owner = make_user()
    await storage.users.create(owner)
    stale = replace(make_file(owner), expires_at=utcnow() - timedelta(minutes=1))
    fresh = make_file(owner)
    old_done = make_file(owner, size=4, chunk_size=4)
    for record in (stale, fresh, old_done):
        await storage.files.create(record)
    await storage.files.record_chunk(
        old_done.id, 0, hashlib.sha256(b"x").digest(), expires_at=utcnow()
    )
    now = utcnow()
    assert [f.id for f in await storage.files.unfinished_expiring_before(now, 10)] == [stale.id]
    later = now + timedelta(hours=2)
    both = sorted([stale.id, fresh.id])
    assert [f.id for f in await storage.files.unfinished_expiring_before(later, 10)] == both
    paged = await storage.files.unfinished_expiring_before(later, 1, after_id=both[0])
    assert [f.id for f in paged] == both[1:]
    assert await storage.files.completed_before(now - timedelta(days=1), 10) == []
    assert [f.id for f in await storage.files.completed_before(now + timedelta(days=1), 10)] == [
        old_done.id
    ]
    after = await storage.files.completed_before(now + timedelta(days=1), 10, after_id=old_done.id)
    assert after == []


async def test_a_tus_upload_keeps_its_metadata_and_staged_bytes_until_complete(
    storage: Storage,
) -> None:
    owner = make_user()
    await storage.users.create(owner)
    record = replace(make_file(owner, size=10, chunk_size=4), tus_metadata="filename YS5iaW4=")
    await storage.files.create(record)
    stored = await storage.files.get(record.id)
    assert stored is not None
    assert (stored.tus_metadata, stored.staged_chunk, stored.staged_bytes) == (
        "filename YS5iaW4=",
        0,
        0,
    )
    later = utcnow() + timedelta(hours=3)
    await storage.files.set_staged(record.id, 1, 3, expires_at=later)
    stored = await storage.files.get(record.id)
    assert stored is not None
    assert (stored.staged_chunk, stored.staged_bytes, stored.expires_at) == (1, 3, later)
    for index in range(3):
        await storage.files.record_chunk(record.id, index, bytes(32), expires_at=later)
    await storage.files.set_staged(record.id, 2, 1, expires_at=later)  # complete: no change
    done = await storage.files.get(record.id)
    assert done is not None
    assert (done.status, done.staged_chunk, done.staged_bytes, done.expires_at) == (
        "complete",
        1,
        3,
        None,
    )


async def test_thumbnails_are_kept_once_and_go_with_their_file(storage: Storage) -> None:
    owner = make_user("Ann")
    await storage.users.create(owner)
    chat = make_chat(owner, title="pictures")
    await storage.chats.create(chat, [owner.id])
    picture = replace(make_file(owner, size=4, chunk_size=4, chat=chat), thumbnail_due=True)
    broken = replace(make_file(owner, size=4, chunk_size=4), thumbnail_due=True)
    later = utcnow() + timedelta(hours=1)
    for record in (picture, broken):
        await storage.files.create(record)
    assert await storage.files.due_thumbnails(10) == []  # not complete yet
    for record in (picture, broken):
        await storage.files.record_chunk(record.id, 0, bytes(32), expires_at=later)
    assert sorted(r.id for r in await storage.files.due_thumbnails(10)) == sorted(
        [picture.id, broken.id]
    )
    assert await storage.files.thumbnail(picture.id) is None

    await storage.files.put_thumbnail(picture.id, Thumbnail("image/jpeg", b"\xff\xd8small"))
    await storage.files.put_thumbnail(picture.id, Thumbnail("image/jpeg", b"another"))
    await storage.files.put_thumbnail(broken.id, Thumbnail("", b""))
    assert await storage.files.thumbnail(picture.id) == Thumbnail("image/jpeg", b"\xff\xd8small")
    assert await storage.files.thumbnail(broken.id) == Thumbnail("", b"")
    assert await storage.files.due_thumbnails(10) == []
    posted, _ = await storage.messages.create(
        replace(make_message(chat, owner, ""), kind="file", text=None, file=picture.ref)
    )
    read = await storage.messages.get(posted.id)
    assert read is not None
    assert read.file is not None
    assert read.file.has_thumbnail

    await storage.files.delete(picture.id)
    assert await storage.files.thumbnail(picture.id) is None
    await storage.files.put_thumbnail(picture.id, Thumbnail("image/jpeg", b"late"))
    assert await storage.files.thumbnail(picture.id) is None  # a deleted file keeps nothing
