"""An S3 implementation in server mode for the tests: moto (`python -m moto.server`) on a free
loopback port, spoken to over real HTTP by the server under test exactly as it would speak to
AWS S3 or MinIO.

What moto does not emulate (so these tests do not cover it): persistence (its state lives in
its memory, so "the store goes away" is its endpoint cut by `tcp_proxy.TcpProxy`, or its
process paused, never a restart), signature checking unless `checking_signatures`, and its own
verification of part checksums. The server's side of all three is the same code whichever
store answers.
"""

import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import boto3
import httpx

from tests.support.server import TEST_CHUNK_SIZE, free_port

ACCESS_KEY, SECRET_KEY, REGION = "hypersend-test", "hypersend-test-secret", "us-east-1"


class S3Server:
    """`checking_signatures=True`: moto checks every request's SigV4 signature against the
    keys its IAM knows (`signed_in_user` makes some) after the first `SETUP_ACTIONS`."""

    SETUP_ACTIONS = 4

    def __init__(self, *, checking_signatures: bool = False) -> None:
        self.checking_signatures = checking_signatures
        self.port = free_port()
        self.log_path = Path(tempfile.mkdtemp(prefix="hypersend-moto-")) / "moto.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "S3Server":
        env = {
            **os.environ,
            # Parts as small as the tests' chunks; bodies spill to temporary files past 1 MiB.
            "S3_UPLOAD_PART_MIN_SIZE": str(TEST_CHUNK_SIZE),
            "MOTO_S3_DEFAULT_KEY_BUFFER_SIZE": str(1024 * 1024),
        }
        if self.checking_signatures:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(self.SETUP_ACTIONS)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            env=env,
            stdout=self.log_path.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                httpx.get(f"{self.url}/moto-api/", timeout=1)
                return self
            except httpx.TransportError:
                if self.process.poll() is not None:
                    raise RuntimeError(
                        f"moto exited: {self.log_path.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.1)
        raise RuntimeError(f"moto did not start: {self.log_path.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:  # busy with gigabytes: no state to save
                self.process.kill()
                self.process.wait(10)

    def pause(self) -> None:
        """Stop answering (SIGSTOP): connections open, nothing comes back."""
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGCONT)

    def client(self) -> Any:
        return sdk_client(self.url)

    def new_bucket(self) -> str:
        name = f"hypersend-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def signed_in_user(self) -> tuple[str, str, str]:
        """With `checking_signatures`: an IAM user allowed everything on S3, and a bucket made
        with its keys, in exactly `SETUP_ACTIONS` unchecked actions. (key id, secret, bucket)"""
        iam = boto3.client(
            "iam",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
        )
        iam.create_user(UserName="hypersend")
        policy = '{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",'
        policy += ' "Action": "s3:*", "Resource": "*"}]}'
        iam.put_user_policy(UserName="hypersend", PolicyName="s3", PolicyDocument=policy)
        key = iam.create_access_key(UserName="hypersend")["AccessKey"]
        key_id, secret = key["AccessKeyId"], key["SecretAccessKey"]
        bucket = f"hypersend-{uuid.uuid4().hex[:12]}"
        sdk_client(self.url, key_id, secret).create_bucket(Bucket=bucket)
        return key_id, secret, bucket

    def settings(
        self, bucket: str, key_id: str = ACCESS_KEY, secret: str = SECRET_KEY
    ) -> dict[str, str]:
        """What points a server at `bucket`."""
        return {
            "S3_BUCKET": bucket,
            "S3_ENDPOINT_URL": self.url,
            "S3_REGION": REGION,
            "AWS_ACCESS_KEY_ID": key_id,
            "AWS_SECRET_ACCESS_KEY": secret,
            "S3_MIN_PART_BYTES": str(TEST_CHUNK_SIZE),
        }

    def object_keys(self, bucket: str) -> list[str]:
        listing = self.client().list_objects_v2(Bucket=bucket)
        return [item["Key"] for item in listing.get("Contents", [])]

    def empty(self, bucket: str) -> None:
        """Delete every object of the bucket."""
        for key in self.object_keys(bucket):
            self.client().delete_object(Bucket=bucket, Key=key)

    def pending_uploads(self, bucket: str) -> list[str]:
        listing = self.client().list_multipart_uploads(Bucket=bucket)
        return [item["Key"] for item in listing.get("Uploads", [])]


def sdk_client(endpoint_url: str, key_id: str = ACCESS_KEY, secret: str = SECRET_KEY) -> Any:
    """boto3, the AWS SDK, for looking into a bucket independently of the server."""
    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
    )


def bucket_holds(settings: dict[str, str], file_id: str) -> bool:
    """Whether the bucket of a server's `settings` keeps the file or an upload of it."""
    client, bucket, key = (
        sdk_client(settings["S3_ENDPOINT_URL"]),
        settings["S3_BUCKET"],
        f"files/{file_id}",
    )
    objects = client.list_objects_v2(Bucket=bucket, Prefix=key).get("Contents", [])
    uploads = client.list_multipart_uploads(Bucket=bucket, Prefix=key).get("Uploads", [])
    return bool(objects or uploads)


def bucket_bytes(settings: dict[str, str], file_id: str) -> bytes:
    client = sdk_client(settings["S3_ENDPOINT_URL"])
    answer = client.get_object(Bucket=settings["S3_BUCKET"], Key=f"files/{file_id}")
    data: bytes = answer["Body"].read()
    return data
