"""Emoji reactions: what counts as one emoji, and adding or removing one within the limits.

The functions here are pure: the store applies them atomically to what a message holds
(`MessageRepository.change_reactions`), whichever process writes.
"""

import unicodedata

from hypersend.errors import Conflict, Unprocessable
from hypersend.storage.models import Reaction, Reactions

MAX_EMOJI_PER_MESSAGE = 20
"""Different emoji on one message."""

MAX_REACTIONS_PER_USER = 3
"""Emoji one person may put on one message."""

MAX_EMOJI_CHARS = 16
"""Code points in one emoji: the longest family and flag sequences have 10 or fewer."""

ZERO_WIDTH_JOINER = "\u200d"
VARIATION_SELECTORS = {"\ufe0e", "\ufe0f"}
KEYCAP = "\u20e3"
KEYCAP_BASES = set("0123456789#*")
SKIN_TONES = {chr(code) for code in range(0x1F3FB, 0x1F400)}
TAGS = {chr(code) for code in range(0xE0020, 0xE0080)}  # subdivision flags (England, ...)
JOINING = {ZERO_WIDTH_JOINER, KEYCAP, *VARIATION_SELECTORS, *SKIN_TONES, *TAGS}


def check_emoji(emoji: str) -> None:
    """Refuse (422) anything that is not one emoji: letters, words, markup, control
    characters, several emoji side by side are all refused."""
    if not is_emoji(emoji):
        raise Unprocessable("A reaction must be a single emoji", code="not_an_emoji")


def is_emoji(text: str) -> bool:
    if not 0 < len(text) <= MAX_EMOJI_CHARS:
        return False
    if text[-1] == KEYCAP:  # 1️⃣: a digit, # or *, maybe a variation selector, the keycap
        return text[0] in KEYCAP_BASES and set(text[1:-1]) <= VARIATION_SELECTORS
    pictographs = 0
    for position, char in enumerate(text):
        if char in JOINING:
            if position == 0:
                return False
        elif unicodedata.category(char) == "So":
            pictographs += 1
        else:
            return False
    if _regional_indicators(text):
        return len(text) == 2  # a flag is exactly two of them
    return pictographs >= 1 and _joined(text)


def _regional_indicators(text: str) -> bool:
    return all(0x1F1E6 <= ord(char) <= 0x1F1FF for char in text)


def _joined(text: str) -> bool:
    """Several pictographs only when joiners tie them into one (👩‍💻): no joiner-free pair."""
    previous_pictograph = False
    for char in text:
        pictograph = char not in JOINING
        if pictograph and previous_pictograph:
            return False
        if char == ZERO_WIDTH_JOINER:
            previous_pictograph = False
        elif pictograph:
            previous_pictograph = True
    return True


def with_reaction(reactions: Reactions, user_id: str, emoji: str) -> Reactions:
    """`reactions` with the user's `emoji` added (unchanged if it is there already)."""
    if any(r.emoji == emoji and user_id in r.user_ids for r in reactions):
        return reactions
    if sum(user_id in r.user_ids for r in reactions) >= MAX_REACTIONS_PER_USER:
        raise Conflict(
            f"One person can react with at most {MAX_REACTIONS_PER_USER} emoji to a message",
            code="too_many_reactions",
        )
    if all(r.emoji != emoji for r in reactions):
        if len(reactions) >= MAX_EMOJI_PER_MESSAGE:
            raise Conflict(
                f"A message can carry at most {MAX_EMOJI_PER_MESSAGE} different emoji",
                code="too_many_emoji",
            )
        return (*reactions, Reaction(emoji, (user_id,)))
    return tuple(
        Reaction(r.emoji, (*r.user_ids, user_id)) if r.emoji == emoji else r for r in reactions
    )


def without_reaction(reactions: Reactions, user_id: str, emoji: str) -> Reactions:
    """`reactions` with the user's `emoji` taken away (an emoji nobody has left goes)."""
    changed = (
        Reaction(r.emoji, tuple(u for u in r.user_ids if u != user_id)) if r.emoji == emoji else r
        for r in reactions
    )
    return tuple(r for r in changed if r.user_ids)
