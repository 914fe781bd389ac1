"""Message search over HTTP: words of texts and file names in one's own chats, newest first,
paged, with the matching words marked; any query text is answered, never with a 500."""

from pathlib import Path

import pytest

from hypersend.client import ApiError, Chat, HyperSendClient, InvalidInput, NotFoundError
from tests.support.files import random_file


@pytest.fixture
async def chat(alice: HyperSendClient, bob: HyperSendClient) -> Chat:
    return await alice.open_direct_chat((await bob.me()).id)


async def test_search_finds_words_in_texts_and_file_names_with_highlights(
    alice: HyperSendClient,
    bob: HyperSendClient,
    carol: HyperSendClient,
    chat: Chat,
    tmp_path: Path,
) -> None:
    first = await alice.send_message(chat.id, "The quarterly Report is attached")
    await bob.send_message(chat.id, "reporting for duty")
    await bob.send_message(chat.id, "nothing to see here")
    elsewhere = await carol.open_direct_chat((await bob.me()).id)
    await carol.send_message(elsewhere.id, "a report Alice must not find")
    info = await alice.upload_file(
        random_file(tmp_path / "Report-2027.pdf", 50), state_dir=tmp_path
    )
    await alice.send_message(chat.id, file_id=info.file_id)

    page = await alice.search_messages("rep")
    assert [f.message.text or "file" for f in page.found] == [
        "file",
        "reporting for duty",
        "The quarterly Report is attached",
    ]
    assert not page.has_more
    file_hit, duty, quarterly = page.found
    assert file_hit.message.file is not None
    assert file_hit.highlights == ((0, 6),)  # "Report" of Report-2027.pdf
    assert duty.highlights == ((0, 9),)
    assert quarterly.highlights == ((14, 20),)
    assert quarterly.message.id == first.id

    both = await alice.search_messages("QUARTERLY report")  # every word, any case
    assert [f.message.id for f in both.found] == [first.id]
    assert both.found[0].highlights == ((4, 13), (14, 20))
    in_chat = await bob.search_messages("report", chat_id=elsewhere.id)
    assert [f.message.text for f in in_chat.found] == ["a report Alice must not find"]

    await alice.edit_message(first.id, "The annual summary is attached")
    assert [f.message.id for f in (await alice.search_messages("annual")).found] == [first.id]
    assert (await alice.search_messages("quarterly")).found == []
    await alice.delete_message(first.id)
    assert (await alice.search_messages("annual")).found == []


async def test_search_pages_newest_first(alice: HyperSendClient, chat: Chat) -> None:
    sent = [await alice.send_message(chat.id, f"note {n}") for n in range(7)]
    seen: list[str] = []
    before = None
    while True:
        page = await alice.search_messages("note", before=before, limit=3)
        seen += [f.message.id for f in page.found]
        if not page.has_more:
            break
        before = page.found[-1].message.id
    assert seen == [m.id for m in reversed(sent)]


@pytest.mark.parametrize(
    ("query", "finds_it"),
    [
        ('"note', True),
        ("note*", True),
        ("{note}", True),
        ("note\x00", True),
        ("^no.*te$", False),  # the words "no" and "te": no word of the note starts with "te"
        ("to:* & !self | y", False),  # "y" starts no word
        ("note OR nothing", False),  # "or" and "nothing" start none either
        ("NEAR(note self)", False),
        ("[a-z]+", False),
        ("'; DROP TABLE messages; --", False),
        ("%_%", None),  # no words at all: 422, below
        ("\\", None),
        ("(((", None),
        ("ночь 夜 note", False),
        ("NOTE to", True),
    ],
)
async def test_any_query_text_is_answered_by_its_words(
    alice: HyperSendClient, chat: Chat, query: str, finds_it: bool | None
) -> None:
    note = await alice.send_message(chat.id, "note to self")
    if finds_it is None:
        with pytest.raises(InvalidInput):
            await alice.search_messages(query)
        return
    page = await alice.search_messages(query)
    assert [f.message.id for f in page.found] == ([note.id] if finds_it else [])


@pytest.mark.parametrize("query", ["", "   ", "!!!", "👍", "_", "x" * 201])
async def test_a_query_without_words_or_too_long_is_422(alice: HyperSendClient, query: str) -> None:
    with pytest.raises(InvalidInput):
        await alice.search_messages(query)


async def test_search_stays_within_ones_chats(
    alice: HyperSendClient, bob: HyperSendClient, carol: HyperSendClient, chat: Chat
) -> None:
    secret = await alice.send_message(chat.id, "secret plans")
    with pytest.raises(NotFoundError):  # a chat one is not in
        await carol.search_messages("secret", chat_id=chat.id)
    with pytest.raises(NotFoundError):  # paging from a message one cannot see
        await carol.search_messages("secret", before=secret.id)
    assert (await carol.search_messages("secret")).found == []
    with pytest.raises(ApiError) as bad_limit:
        await alice.search_messages("secret", limit=0)
    assert bad_limit.value.status == 422
    assert [f.message.id for f in (await bob.search_messages("plans")).found] == [secret.id]
