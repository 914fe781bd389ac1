"""The in-memory cache of signed-in callers: what it keeps, and what makes it forget."""

import time

from hypersend.auth.principals import Principal, PrincipalCache
from tests.storage.factories import make_session, make_user


def principal() -> Principal:
    user = make_user()
    return Principal(user=user, session=make_session(user))


def test_kept_until_forgotten_by_session_or_by_user() -> None:
    cache = PrincipalCache()
    ann, ben = principal(), principal()
    for who in (ann, ben):
        cache.put(who, cache.generation())
    assert cache.get(ann.session.id) == ann
    cache.forget_session(ann.session.id)
    assert cache.get(ann.session.id) is None
    assert cache.get(ben.session.id) == ben
    cache.forget_user(ben.user.id)
    assert cache.get(ben.session.id) is None


def test_a_read_that_raced_a_forget_is_not_kept() -> None:
    cache = PrincipalCache()
    ann = principal()
    generation = cache.generation()  # a request starts reading the session...
    cache.forget_session(ann.session.id)  # ...while it is being revoked
    cache.put(ann, generation)
    assert cache.get(ann.session.id) is None


def test_entries_expire_and_the_oldest_make_room() -> None:
    short = PrincipalCache(ttl=0.05)
    ann = principal()
    short.put(ann, short.generation())
    time.sleep(0.06)
    assert short.get(ann.session.id) is None
    small = PrincipalCache(capacity=2)
    first, second, third = principal(), principal(), principal()
    for who in (first, second, third):
        small.put(who, small.generation())
    assert small.get(first.session.id) is None
    assert small.get(third.session.id) == third
