"""What the app's screens show, computed from real client models."""

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import flet as ft

from hypersend.client import Chat, Message
from hypersend.client.models import Attachment, Found, Member, Presence, Reaction, Reply
from hypersend.ui.downloads import downloads_folder
from hypersend.ui.presenters import (
    WEB_PICKER_LIMIT,
    bubble_time,
    chat_row,
    day_label,
    found_text,
    initials,
    marked_pieces,
    presence_label,
    preview,
    quote_label,
    reaction_label,
    reaction_who,
    read_by_others,
    web_pick_refusal,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def message(text: str | None = "hi", *, id: str = "02", deleted: bool = False) -> Message:
    return Message(id, "chat", "ann", "text", text, None, NOW, deleted)


def test_initials_and_previews() -> None:
    assert initials("Ada Lovelace") == "AL"
    assert initials("  cher ") == "C"
    assert initials("") == "?"
    assert preview(None) == "No messages yet"
    assert preview(message(deleted=True)) == "Message deleted"
    assert preview(message("line one\nline two")) == "line one line two"
    with_file = Message(
        "03", "chat", "ann", "file", None, Attachment("f", "a.iso", 9, "x"), NOW, False
    )
    assert preview(with_file) == "a.iso"
    chat_with_file = Chat("chat", "direct", "Ben", [], with_file, 0, NOW)
    assert chat_row(chat_with_file, NOW).preview_is_file  # drawn with a file icon


def test_an_edited_message_says_so_beside_its_time() -> None:
    sent = NOW.astimezone().strftime("%H:%M")
    assert bubble_time(message()) == sent
    edited = replace(message(), edited_at=NOW + timedelta(minutes=3))
    assert bubble_time(edited) == f"edited {sent}"
    assert bubble_time(replace(edited, deleted=True, text=None)) == sent


def test_a_reply_shows_who_said_what_it_answers() -> None:
    names = {"ann": "Ann Lee"}
    assert quote_label(message(), names) is None
    answer = replace(message("yes"), reply_to=Reply("01", "ann", "lunch?"))
    assert quote_label(answer, names) == "Ann Lee: lunch?"
    gone = replace(answer, reply_to=Reply("01", "zed", None))
    assert quote_label(gone, names) == "Someone: Deleted message"
    assert quote_label(replace(answer, deleted=True), names) is None


def test_chat_rows_and_read_ticks() -> None:
    chat = Chat(
        "chat", "group", "Trip Crew",
        [Member("ann", "Ann", "02"), Member("ben", "Ben", "01"), Member("cid", "Cid", "05")],
        message(), 3, NOW,
    )  # fmt: skip
    row = chat_row(chat, NOW)
    assert (row.title, row.initials, row.preview, row.unread) == ("Trip Crew", "TC", "hi", 3)
    assert not row.preview_is_file
    assert not read_by_others(chat, message(id="02"), "ann")  # Ben has read only up to 01
    assert read_by_others(chat, message(id="01"), "ann")


def test_day_labels() -> None:
    assert day_label(NOW, NOW) == "Today"
    assert day_label(NOW - timedelta(days=1), NOW) == "Yesterday"


def test_the_web_picker_refuses_what_it_would_truncate() -> None:
    assert web_pick_refusal(WEB_PICKER_LIMIT) is None
    refusal = web_pick_refusal(WEB_PICKER_LIMIT + 1)
    assert refusal is not None
    assert "Large file" in refusal


def test_downloads_go_to_the_downloads_folder_of_each_platform() -> None:
    assert downloads_folder(ft.PagePlatform.ANDROID) == Path("/storage/emulated/0/Download")
    for desktop in (ft.PagePlatform.LINUX, ft.PagePlatform.MACOS, ft.PagePlatform.WINDOWS, None):
        assert downloads_folder(desktop) == Path.home() / "Downloads"


def test_reactions_and_search_matches_are_drawn_from_their_parts() -> None:
    assert reaction_label(Reaction("👍", 2, True, ("a", "b"))) == "👍 2"
    names = {"a": "Ann", "b": "Ben", "c": "Cid", "d": "Dee"}
    assert reaction_who(Reaction("👍", 2, True, ("a", "b")), names) == "Ann, Ben"
    many = Reaction("👍", 5, False, ("a", "b", "c", "d", "x"))
    assert reaction_who(many, names) == "Ann, Ben, Cid and 2 more"
    text = "The quarterly Report is ready"
    assert marked_pieces(text, ((14, 20), (4, 13))) == [
        ("The ", False),
        ("quarterly", True),
        (" ", False),
        ("Report", True),
        (" is ready", False),
    ]
    assert marked_pieces("abc", ((0, 3),)) == [("abc", True)]
    assert marked_pieces("abc", ((2, 9),)) == [("abc", False)]  # out of range: ignored
    assert found_text(Found(message(text), ((4, 13),))) == text
    with_file = Message(
        "03", "chat", "ann", "file", None, Attachment("f", "Report.pdf", 9, "x"), NOW, False
    )
    assert found_text(Found(with_file, ((0, 6),))) == "Report.pdf"


def test_presence_says_online_or_when_last_seen() -> None:
    assert presence_label(Presence("u", True, None), NOW) == "online"
    assert presence_label(Presence("u", False, None), NOW) == ""  # hidden, or never seen
    earlier = NOW - timedelta(minutes=5)
    assert presence_label(Presence("u", False, earlier), NOW) == (
        f"last seen {earlier.astimezone().strftime('%H:%M')}"
    )
