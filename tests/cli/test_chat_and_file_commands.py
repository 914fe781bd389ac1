"""The CLI end to end: open a chat, talk, send a file into it, fetch it back."""

import threading
from pathlib import Path

from tests.support.cli import JsonLines, interrupt, keep_saying, ok, run_cli, sign_up, start_cli
from tests.support.files import random_file
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess


def test_chat_send_and_fetch_end_to_end(server: ServerProcess, tmp_path: Path) -> None:
    ann, ben = tmp_path / "ann.json", tmp_path / "ben.json"
    sign_up(server.url, ann, "Ann")
    ben_email = sign_up(server.url, ben, "Ben")

    chat_id = ok(ann, "dm", ben_email).split()[0]
    said = ok(ann, "say", chat_id, "hello", "bne").strip()
    assert ok(ann, "edit", said, "hello", "ben").strip() == f"{said}  hello ben (edited)"
    assert "Ann: hello ben (edited)" in ok(ben, "history", chat_id)
    ok(ben, "say", chat_id, "hi", "ann", "--reply-to", said)
    assert "Ben: hi ann  [to Ann: hello ben]" in ok(ann, "history", chat_id)
    assert ok(ben, "react", said, "👍").strip() == f"{said}  👍 1*"
    assert ok(ann, "react", said, "❤️").strip() == f"{said}  👍 1  ❤️ 1*"
    assert "Ann: hello ben (edited)  👍 1*  ❤️ 1" in ok(ben, "history", chat_id)
    assert ok(ben, "react", said, "👍", "--remove").strip() == f"{said}  ❤️ 1"
    found = ok(ben, "search", "HELLO")
    assert f"{chat_id}  {said}  [hello] ben" in found
    assert ok(ben, "search", "nowhere").strip() == "(nothing found)"
    not_emoji = run_cli(ben, "react", said, "ok")
    assert not_emoji.returncode == 1
    assert "A reaction must be a single emoji" in not_emoji.stderr
    refused = run_cli(ben, "edit", said, "not mine")
    assert refused.returncode == 1
    assert "Only the sender may edit a message" in refused.stderr
    assert "(1 unread)" in ok(ben, "chats")
    assert ok(ben, "pin", chat_id).strip() == f"{chat_id}  [pinned] Ann"
    assert ok(ben, "mute", chat_id).strip() == f"{chat_id}  [pinned] [muted] Ann"
    assert "[pinned] [muted] Ann (1 unread)" in ok(ben, "chats")
    assert ok(ben, "pin", chat_id, "--off").strip() == f"{chat_id}  [muted] Ann"

    source = random_file(tmp_path / "report.pdf", 3 * TEST_CHUNK_SIZE + 5)
    sent = ok(ann, "send", str(source), "--chat", chat_id, "--quiet")
    file_id = sent.split()[0]
    assert f"[file] report.pdf ({file_id})" in ok(ben, "history", chat_id)

    downloads = tmp_path / "downloads"
    downloads.mkdir()
    fetched = run_cli(ben, "fetch", file_id, "-o", str(downloads))
    assert fetched.returncode == 0, fetched.stderr
    assert "verified" in fetched.stdout
    assert "100.0%" in fetched.stderr
    assert (downloads / "report.pdf").read_bytes() == source.read_bytes()


def is_message(line: dict[str, object]) -> bool:
    return line["type"] == "message.created"


def test_follow_prints_events_as_json_lines(server: ServerProcess, tmp_path: Path) -> None:
    ann, ben = tmp_path / "ann.json", tmp_path / "ben.json"
    sign_up(server.url, ann, "Ann")
    ben_email = sign_up(server.url, ben, "Ben")
    chat_id = ok(ann, "dm", ben_email).split()[0]
    follower = start_cli(ben, "follow")
    received = threading.Event()
    talker = keep_saying(ann, chat_id, received)
    try:
        event = JsonLines(follower).next_where(is_message, within=20)
        received.set()
        assert isinstance(event["message"], dict)
        assert event["message"]["text"].startswith("ping")
    finally:
        received.set()
        follower.terminate()
        follower.wait(timeout=10)
        talker.join()


def test_follow_stops_on_ctrl_c_after_reconnecting(
    own_server: ServerProcess, tmp_path: Path
) -> None:
    own_server.start()
    ann, ben = tmp_path / "ann.json", tmp_path / "ben.json"
    sign_up(own_server.url, ann, "Ann")
    ben_email = sign_up(own_server.url, ben, "Ben")
    chat_id = ok(ann, "dm", ben_email).split()[0]
    follower = start_cli(ben, "follow")
    lines = JsonLines(follower)
    connected = threading.Event()
    talker = keep_saying(ann, chat_id, connected)
    try:
        lines.next_where(is_message, within=20)  # following for sure
    finally:
        connected.set()
        talker.join()
    own_server.restart()
    assert lines.next_where(lambda line: not is_message(line), within=20) == {"type": "reconnected"}
    assert interrupt(follower, within=2) == 130


def test_errors_are_clear(server: ServerProcess, tmp_path: Path) -> None:
    profile = tmp_path / "p.json"
    sign_up(server.url, profile, "Cat")
    missing = run_cli(profile, "fetch", "01NOSUCHFILE00000000000000")
    assert missing.returncode == 1
    assert "File not found" in missing.stderr
    nobody = run_cli(profile, "dm", "nobody@nowhere.test")
    assert nobody.returncode == 1
    assert "No user with email" in nobody.stderr
