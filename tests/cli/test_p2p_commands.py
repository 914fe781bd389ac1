"""`hypersend p2p send/receive/list` end to end between two real CLI processes."""

import time
from pathlib import Path

from tests.support.cli import interrupt, ok, run_cli, sign_up, start_cli
from tests.support.files import random_file, sha256_of
from tests.support.server import ServerProcess


def test_a_file_goes_from_one_cli_to_another_through_the_relay(
    server: ServerProcess, tmp_path: Path
) -> None:
    sender, receiver = tmp_path / "sender.json", tmp_path / "receiver.json"
    sign_up(server.url, sender, "Sally Sender")
    receiver_email = sign_up(server.url, receiver, "Rick Receiver")
    source = random_file(tmp_path / "holiday.mov", 2 * 1024 * 1024 + 17)
    inbox = tmp_path / "inbox"

    # The receiver starts first and waits for an offer to arrive.
    receiving = start_cli(receiver, "p2p", "receive", "-o", str(inbox), "--quiet")
    try:
        sent = ok(sender, "p2p", "send", str(source), "--to", receiver_email, "--quiet")
        out, err = receiving.communicate(timeout=60)
    finally:
        receiving.kill()
    assert receiving.returncode == 0, err
    assert "Delivered holiday.mov" in sent
    assert "verified" in out
    assert sha256_of(inbox / "holiday.mov") == sha256_of(source)
    transfer_id = sent.split("transfer ")[1].split()[0]
    assert f"{transfer_id}  completed  from  holiday.mov" in ok(receiver, "p2p", "list")
    assert ok(sender, "p2p", "list", "--open") == ""


def test_receiving_a_named_transfer_and_bad_input(server: ServerProcess, tmp_path: Path) -> None:
    sender, receiver = tmp_path / "s.json", tmp_path / "r.json"
    sign_up(server.url, sender, "Sam")
    receiver_email = sign_up(server.url, receiver, "Rae")
    source = random_file(tmp_path / "notes.txt", 5000)

    sending = start_cli(sender, "p2p", "send", str(source), "--to", receiver_email, "--quiet")
    try:
        assert sending.stdout is not None
        offered = sending.stdout.readline()
        transfer_id = offered.split("transfer ")[1].strip()
        received = ok(receiver, "p2p", "receive", transfer_id, "-o", str(tmp_path / "got"))
        sending.communicate(timeout=60)
    finally:
        sending.kill()
    assert sending.returncode == 0
    assert "verified" in received
    assert (tmp_path / "got" / "notes.txt").read_bytes() == source.read_bytes()

    unknown = run_cli(sender, "p2p", "send", str(source), "--to", "nobody@example.test")
    assert unknown.returncode == 1
    assert "No user with email" in unknown.stderr
    missing = run_cli(sender, "p2p", "send", str(tmp_path / "nope"), "--to", receiver_email)
    assert missing.returncode == 2
    assert "is not a file" in missing.stderr
    foreign = run_cli(sender, "p2p", "receive", "01NOTATRANSFER")
    assert foreign.returncode == 1
    assert "not found" in foreign.stderr.lower()


def test_ctrl_c_stops_a_waiting_sender_or_receiver_at_once(
    server: ServerProcess, tmp_path: Path
) -> None:
    sender, receiver = tmp_path / "s.json", tmp_path / "r.json"
    sign_up(server.url, sender, "Sid")
    receiver_email = sign_up(server.url, receiver, "Ria")
    source = random_file(tmp_path / "clip.mov", 100_000)

    sending = start_cli(sender, "p2p", "send", str(source), "--to", receiver_email, "--quiet")
    assert sending.stdout is not None
    transfer_id = sending.stdout.readline().split("transfer ")[1].strip()
    assert sending.stderr is not None
    assert "Waiting for the receiver" in sending.stderr.readline()
    time.sleep(1)  # its relay socket is open, waiting for the receiver
    assert interrupt(sending, within=2) == 130  # it used to wait 5 s for the relay's goodbye
    assert f"{transfer_id}  cancelled" in ok(sender, "p2p", "list")

    receiving = start_cli(receiver, "p2p", "receive", "-o", str(tmp_path / "in"), "--quiet")
    assert receiving.stderr is not None
    assert "Waiting for a transfer" in receiving.stderr.readline()
    assert interrupt(receiving, within=2) == 130
