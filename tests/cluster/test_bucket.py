"""Two nodes (separate data roots: separate machines) sharing one PostgreSQL database and one
bucket: any node takes any chunk of an upload and serves any file."""

import hashlib
import secrets
from pathlib import Path

import httpx

from tests.cluster.conftest import on
from tests.support.accounts import signed_in
from tests.support.files import put_chunk, random_file, start
from tests.support.postgres import PostgresProcess
from tests.support.s3 import S3Server
from tests.support.server import TEST_CHUNK_SIZE, ServerProcess


async def test_two_nodes_take_alternate_chunks_and_each_serves_the_whole_file(
    postgres: PostgresProcess, s3: S3Server, tmp_path: Path
) -> None:
    shared = {
        "DATABASE_URL": postgres.new_database(),
        "SECRET_KEY": secrets.token_urlsafe(32),
        **s3.settings(s3.new_bucket()),
    }
    a = ServerProcess(tmp_path / "a" / "data", env=shared, name="a").start()
    b = ServerProcess(tmp_path / "b" / "data", env=shared, name="b").start()
    try:
        data = random_file(tmp_path / "shared.bin", 7 * TEST_CHUNK_SIZE + 99).read_bytes()
        pieces = [data[at : at + TEST_CHUNK_SIZE] for at in range(0, len(data), TEST_CHUNK_SIZE)]
        async with await signed_in(a.url) as on_a, on(b, on_a) as on_b:
            file_id = str((await start(on_a, len(data)))["file_id"])
            for index, piece in enumerate(pieces):
                node = (on_a, on_b)[index % 2]
                digest = hashlib.sha256(piece).hexdigest() if index % 3 else None
                answer = await put_chunk(node, file_id, index, piece, digest=digest)
                assert answer.status_code == 200, answer.text
            assert answer.json()["complete"]
            for node, name in ((on_a, "a"), (on_b, "b")):
                copy = await node.download_file(file_id, tmp_path / f"from-{name}.bin")
                assert copy.read_bytes() == data
            middle = await on_b.api.http.get(
                f"/files/download/{file_id}",
                headers={**on_b.api.auth_headers(), "Range": "bytes=65000-70000"},
            )
            assert middle.status_code == 206
            assert middle.content == data[65000:70001]
            link = await on_a.download_link(file_id)
        async with httpx.AsyncClient() as anonymous:
            by_link = await anonymous.get(link.replace(a.url, b.url))
            assert by_link.content == data
        for server in (a, b):  # the database and the bytes live elsewhere: nothing here
            assert list(server.data_root.iterdir()) == []
    finally:
        a.stop()
        b.stop()
