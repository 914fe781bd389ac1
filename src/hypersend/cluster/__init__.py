"""How several server processes behave as one server.

With `REDIS_URL` unset HyperSend is one process and keeps everything in its own memory. With
it set, what every process must see goes through Redis: events for devices and notices that
make each process drop its caches (`realtime/redis_bus.py`), sign-in throttling counters
(`auth/throttle.py`), and the coordination here: which process does the housekeeping, which
processes are alive, and which one relays each P2P transfer (`coordination.py`).
"""
