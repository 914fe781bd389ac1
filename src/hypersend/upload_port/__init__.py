"""The upload port: chunks received, hashed and written by one thread each, beside granian.

Through granian a chunk's bytes cross tokio, the ASGI receive calls and Python's pieces
before they are hashed and written (bench/README.md: 3.4-3.9 server CPU-seconds per GiB,
against 1.4-2.2 for a bare receive-hash-write loop). With `UPLOAD_PORT` set, the API
describes an upload to its owner with an `upload_url` carrying a signed grant (`grants.py`);
chunks PUT there are checked and recorded by the same `FileService.receive_chunk`, but their
bytes go from the socket into a reused buffer, SHA-256 and the file on one worker thread
(`body.py`).

Processes: every server process listens on the port (`SO_REUSEPORT`: the kernel spreads the
connections) with its own services, so a chunk is recorded as any API request's would be;
any node with the same `SECRET_KEY`, database and files takes any node's grants. What is
kept in memory is the process's own connections and threads, bounded (`server.py`).
"""
