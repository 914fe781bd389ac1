"""The WebSocket connections of this process, and delivery of event frames to them.

Every connection has a bounded queue. Delivery never waits: a connection whose queue is full
is too slow to keep up, and is told to close (it reconnects and catches up over HTTP), so one
slow or dead client never stalls delivery to the others.
"""

import asyncio
from collections import defaultdict
from collections.abc import Iterable

CLOSE_TOO_SLOW = 4008
CLOSE_SESSION_ENDED = 4001
CLOSE_BUS_LOST = 1013  # "try again later": the client reconnects and catches up
CLOSE_TOO_MANY = 4029


class Subscriber:
    """One open WebSocket's outbound frames."""

    def __init__(self, user_id: str, session_id: str, queue_size: int) -> None:
        self.user_id = user_id
        self.session_id = session_id
        self.frames: asyncio.Queue[str] = asyncio.Queue(queue_size)
        self.closed = asyncio.Event()
        self.close_code = 1000
        self.close_reason = ""

    def offer(self, frame: str) -> None:
        if self.closed.is_set():
            return
        try:
            self.frames.put_nowait(frame)
        except asyncio.QueueFull:
            self.close(CLOSE_TOO_SLOW, "Too slow to keep up: reconnect and catch up")

    def close(self, code: int, reason: str) -> None:
        if not self.closed.is_set():
            self.close_code, self.close_reason = code, reason
            self.closed.set()


class ConnectionHub:
    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._by_user: defaultdict[str, set[Subscriber]] = defaultdict(set)

    def subscribe(self, user_id: str, session_id: str) -> Subscriber:
        subscriber = Subscriber(user_id, session_id, self._queue_size)
        self._by_user[user_id].add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscribers = self._by_user.get(subscriber.user_id)
        if subscribers is not None:
            subscribers.discard(subscriber)
            if not subscribers:
                del self._by_user[subscriber.user_id]

    def deliver(self, user_ids: Iterable[str], frame: str) -> None:
        for user_id in set(user_ids):
            for subscriber in tuple(self._by_user.get(user_id, ())):
                subscriber.offer(frame)

    def end_session(self, session_id: str) -> None:
        for subscribers in self._by_user.values():
            for subscriber in subscribers:
                if subscriber.session_id == session_id:
                    subscriber.close(CLOSE_SESSION_ENDED, "Session has ended")

    def end_user(self, user_id: str) -> None:
        for subscriber in self._by_user.get(user_id, ()):
            subscriber.close(CLOSE_SESSION_ENDED, "Account is not available")

    def end_all(self, code: int, reason: str) -> None:
        for subscribers in self._by_user.values():
            for subscriber in subscribers:
                subscriber.close(code, reason)

    def connections_of(self, user_id: str) -> int:
        return len(self._by_user.get(user_id, ()))

    def connection_count(self) -> int:
        return sum(len(subscribers) for subscribers in self._by_user.values())
