"""Image previews: made on the server after upload, small, upright, without metadata, shown
to whoever may download the file; hostile or broken images simply get none."""

import asyncio
import io
import sqlite3
import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from hypersend.client import Chat, HyperSendClient, NotFoundError
from hypersend.files.thumbnails import THUMBNAIL_EDGE
from tests.support.accounts import PASSWORD, signed_in, unique_email
from tests.support.server import ServerProcess

EXIF_ORIENTATION, EXIF_MAKE, EXIF_GPS = 0x0112, 0x010F, 0x8825
RIGHT_SIDE_UP_AFTER_TURNING = 6  # "rotate 90 degrees clockwise to display"


@pytest.fixture
async def chat(alice: HyperSendClient, bob: HyperSendClient) -> Chat:
    return await alice.open_direct_chat((await bob.me()).id)


def photo(path: Path, size: tuple[int, int], fmt: str, **save: object) -> Path:
    """A picture whose left half is red and right half blue."""
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, size[0] // 2, size[1]))
    image.save(path, fmt, **save)
    return path


def colour_at(image: Image.Image, x: float, y: float) -> str:
    r, g, b = image.convert("RGB").getpixel((int(x * image.width), int(y * image.height)))  # type: ignore[misc]
    return (
        "red"
        if r > 200 and b < 80
        else "blue"
        if b > 200 and r < 80
        else "white"
        if min(r, g, b) > 200
        else f"{r},{g},{b}"
    )


async def preview_of(client: HyperSendClient, message_file_id: str) -> Image.Image:
    data = await client.thumbnail(message_file_id)
    image = Image.open(io.BytesIO(data))
    assert image.format == "JPEG"
    return image


async def test_a_photo_gets_an_upright_small_preview_without_its_metadata(
    alice: HyperSendClient, bob: HyperSendClient, chat: Chat, tmp_path: Path
) -> None:
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = RIGHT_SIDE_UP_AFTER_TURNING
    exif[EXIF_MAKE] = "SpyCam"
    exif[EXIF_GPS] = {1: "N", 2: (52.0, 31.0, 12.0)}
    source = photo(tmp_path / "holiday.jpg", (1600, 800), "JPEG", exif=exif, quality=90)
    message = await alice.send_file(chat.id, source)
    assert message.file is not None
    assert message.file.has_thumbnail  # made before the upload was answered
    (seen,) = [m for m in (await bob.messages(chat.id)).messages if m.id == message.id]
    assert seen.file is not None
    assert seen.file.has_thumbnail

    preview = await preview_of(bob, message.file.id)
    assert preview.size == (THUMBNAIL_EDGE // 2, THUMBNAIL_EDGE)  # turned upright: tall
    assert colour_at(preview, 0.5, 0.2) == "red"  # the red half turned to the top
    assert colour_at(preview, 0.5, 0.8) == "blue"
    assert not preview.getexif()  # no orientation, maker or position left
    assert "exif" not in preview.info
    assert len(await bob.thumbnail(message.file.id)) < 20_000
    info = await bob.api.json("GET", f"/files/{message.file.id}/info")
    assert info["has_thumbnail"] is True


@pytest.mark.parametrize(
    ("name", "fmt", "save"),
    [
        ("shot.png", "PNG", {}),
        ("sticker.webp", "WEBP", {"quality": 90}),
    ],
)
async def test_png_and_webp_get_previews(
    alice: HyperSendClient, chat: Chat, tmp_path: Path, name: str, fmt: str, save: dict[str, object]
) -> None:
    message = await alice.send_file(chat.id, photo(tmp_path / name, (900, 300), fmt, **save))
    assert message.file is not None
    assert message.file.has_thumbnail
    preview = await preview_of(alice, message.file.id)
    assert preview.width == THUMBNAIL_EDGE
    assert abs(preview.height - THUMBNAIL_EDGE / 3) < 1
    assert (colour_at(preview, 0.2, 0.5), colour_at(preview, 0.8, 0.5)) == ("red", "blue")


async def test_a_gif_shows_its_first_frame_and_transparency_turns_white(
    alice: HyperSendClient, chat: Chat, tmp_path: Path
) -> None:
    first = Image.new("RGBA", (200, 200), (0, 0, 0, 0))
    first.paste((255, 0, 0, 255), (0, 0, 100, 200))  # left red, right transparent
    second = Image.new("RGBA", (200, 200), (0, 0, 255, 255))
    source = tmp_path / "wave.gif"
    first.save(source, "GIF", save_all=True, append_images=[second], duration=100, loop=0)
    message = await alice.send_file(chat.id, source)
    assert message.file is not None
    preview = await preview_of(alice, message.file.id)
    assert preview.size == (200, 200)  # small images are not enlarged
    assert (colour_at(preview, 0.25, 0.5), colour_at(preview, 0.75, 0.5)) == ("red", "white")


async def test_other_files_and_broken_or_hostile_images_get_none(
    alice: HyperSendClient, chat: Chat, tmp_path: Path
) -> None:
    truncated = photo(tmp_path / "cut.jpg", (800, 600), "JPEG").read_bytes()
    cases = {
        "notes.txt": b"just text",
        "fake.jpg": b"\xff\xd8\xff\xe0 not really a JPEG at all",
        "cut.jpg": truncated[: len(truncated) // 3],
        "bomb.png": decompression_bomb(),
        "empty.png": b"",
        "svg.png": b'<svg xmlns="http://www.w3.org/2000/svg"/>',
    }
    for name, content in cases.items():
        (tmp_path / name).write_bytes(content)
        if not content:
            continue  # an empty file is refused by upload/start itself
        message = await alice.send_file(chat.id, tmp_path / name)
        assert message.file is not None
        assert not message.file.has_thumbnail, name
        with pytest.raises(NotFoundError) as missing:
            await alice.thumbnail(message.file.id)
        assert missing.value.code == "no_thumbnail"


def decompression_bomb() -> bytes:
    """A valid PNG of 100,000 x 100,000 black pixels (10 gigapixels, 30 GB decoded) in a
    few kilobytes: it must never be decoded."""
    width = height = 100_000
    row = b"\x00" + b"\x00" * (width // 8)  # filter byte + one bit per pixel
    compressor = zlib.compressobj(9)
    body = b"".join(compressor.compress(row) for _ in range(64)) + compressor.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # 1-bit greyscale
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


async def test_only_those_who_may_download_see_a_preview(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient, chat: Chat, tmp_path: Path
) -> None:
    message = await alice.send_file(chat.id, photo(tmp_path / "p.jpg", (400, 400), "JPEG"))
    assert message.file is not None
    with pytest.raises(NotFoundError):
        await carol.thumbnail(message.file.id)
    with pytest.raises(NotFoundError):
        await carol.thumbnail("01NOSUCHFILE00000000000000")
    to_carol = await bob.open_direct_chat((await carol.me()).id)
    forwarded = await bob.forward_message(message.id, to_carol.id)
    assert forwarded.file is not None
    assert forwarded.file.has_thumbnail
    assert (await preview_of(carol, message.file.id)).size == (THUMBNAIL_EDGE, THUMBNAIL_EDGE)


@pytest.mark.disk_store
async def test_a_preview_left_unmade_by_a_stopped_process_is_made_by_the_sweep(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    """The state a crash between completing an upload and making its preview leaves (the
    file due a preview, none kept) is mended by the housekeeping sweep."""
    own_server.start()
    email = unique_email("ann")
    async with (
        HyperSendClient(own_server.url) as ann,
        await signed_in(own_server.url, "Ben") as ben,
    ):
        await ann.register(email, PASSWORD, "Ann")
        await ann.login(email, PASSWORD)
        notes = await ann.open_direct_chat((await ben.me()).id)
        for name, fmt in (("a.jpg", "JPEG"), ("b.png", "PNG")):
            await ann.send_file(notes.id, photo(tmp_path / name, (640, 480), fmt))
        await ann.send_file(notes.id, tmp_path / "a.jpg")
    own_server.stop()
    with sqlite3.connect(own_server.data_root / "hypersend.db") as db:
        db.execute("DELETE FROM thumbnails")
        db.execute("UPDATE files SET thumbnail_due = 1")
    db.close()

    own_server.start()  # its first sweep runs at once
    async with HyperSendClient(own_server.url) as ann:
        await ann.login(email, PASSWORD)
        for _ in range(100):
            if await all_previewed(ann, notes.id):
                break
            await asyncio.sleep(0.2)
        assert await all_previewed(ann, notes.id)
        for message in (await ann.messages(notes.id)).messages:
            assert message.file is not None
            assert (await preview_of(ann, message.file.id)).width == THUMBNAIL_EDGE
    with sqlite3.connect(own_server.data_root / "hypersend.db") as db:
        assert db.execute("SELECT count(*) FROM files WHERE thumbnail_due = 1").fetchone() == (0,)
    db.close()


async def all_previewed(client: HyperSendClient, chat_id: str) -> bool:
    return all(
        m.file is not None and m.file.has_thumbnail
        for m in (await client.messages(chat_id)).messages
    )
