"""All of HyperSend's settings, read once from the environment and `.env`.

No other module reads `os.environ`: they receive a `Settings` object.
"""

import os
import secrets
from functools import cached_property
from ipaddress import IPv4Network, IPv6Network
from pathlib import Path
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from hypersend.urls import redacted

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB

RegistrationPolicy = Literal["open", "invite", "closed"]
UserDirectory = Literal["contacts", "everyone"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_ignore_empty=True, extra="ignore", frozen=True
    )

    data_root: Path = Path("./data")
    secret_key: SecretStr | None = None
    database_url: str = Field(
        default="",
        description="PostgreSQL shared by several server processes (postgresql://...)",
    )
    database_pool_size: int = Field(
        default=10, ge=1, le=200, description="Connections each process keeps to PostgreSQL"
    )
    mongodb_uri: str = ""
    mongodb_database: str = "hypersend"
    redis_url: str = Field(
        default="",
        description="Redis shared by several server processes (events, caches, leases)",
    )
    lease_seconds: float = Field(
        default=15.0,
        ge=1,
        le=300,
        description="How long a stopped process's housekeeping lease and relays outlive it",
    )
    relay_link_host: str = Field(
        default="127.0.0.1",
        description="Address other server processes reach this one at for P2P relay links",
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(
        default=1, ge=1, le=64, description="Server processes on the one port (> 1 needs Redis)"
    )
    stop_grace_seconds: int = Field(
        default=30,
        ge=1,
        le=3600,
        description="How long a stopping server process may take to end before it is killed",
    )
    public_url: str = ""
    cors_origins: Annotated[list[str], NoDecode] = []
    trusted_proxies: Annotated[list[IPv4Network | IPv6Network], NoDecode] = Field(
        default=[IPv4Network("127.0.0.1/32"), IPv6Network("::1/128")],
        description="Proxies whose X-Forwarded-For names the real client (addresses or CIDRs)",
    )

    access_token_minutes: int = Field(default=15, ge=1)
    refresh_token_days: int = Field(default=30, ge=1)
    registration_policy: RegistrationPolicy | None = None
    user_directory: UserDirectory = Field(
        default="contacts",
        description="Whom /users/search finds: anyone by exact email, and by name or part of "
        "an email the people one shares a chat with (`contacts`) or everyone (`everyone`)",
    )

    login_failure_window_seconds: int = Field(default=900, ge=1)
    login_max_failures_per_account_and_client: int = Field(default=5, ge=1)
    login_max_failures_per_client: int = Field(default=30, ge=1)
    login_max_failures_per_account: int = Field(default=100, ge=1)

    max_json_body_bytes: int = Field(default=1 * MiB, ge=1 * KiB)
    body_stall_seconds: float = Field(
        default=60, gt=0, description="A request body that sends nothing for this long ends (408)"
    )
    max_message_chars: int = Field(default=4096, ge=1)
    message_edit_hours: float = Field(
        default=48, ge=0, description="How long the sender may edit a message; 0 = always"
    )

    max_file_size: int = Field(default=40 * GiB, ge=1)
    chunk_size: int = Field(default=8 * MiB, ge=64 * KiB)
    default_user_quota: int = Field(
        default=100 * GiB, ge=0, description="Bytes each user may store; 0 = unlimited"
    )
    max_uploading_bytes_per_user: int = Field(
        default=48 * GiB,
        ge=0,
        description="Declared bytes of one user's unfinished uploads together; 0 = unlimited",
    )

    min_free_disk_bytes: int = Field(default=1 * GiB, ge=0)
    durable_uploads: bool = True
    direct_writes: bool = Field(
        default=True,
        description="Write uploads past the page cache (O_DIRECT) where the file system can",
    )
    upload_expiry_hours: float = Field(
        default=24, gt=0, description="Idle time before an upload is dropped"
    )
    upload_idle_release_minutes: float = Field(
        default=30,
        ge=0,
        description="Idle time after which an upload gives back the disk it has not written"
        " (it takes it again when it resumes); 0 keeps it to the end",
    )
    retention_days: float = Field(default=0, ge=0, description="0 keeps completed files forever")
    sweep_interval_seconds: float = Field(default=300, gt=0)
    download_link_minutes: int = Field(default=60, ge=1)
    accel_redirect_prefix: str = Field(
        default="",
        pattern=r"^(/[A-Za-z0-9._~/-]*/)?$",
        description="Behind nginx: downloads of files on disk answer X-Accel-Redirect to this"
        " internal location over the files directory, and nginx sends the bytes (e.g."
        " /_hypersend_files/); not used for files in a bucket",
    )
    download_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Standalone (no nginx in front): downloads of files on disk redirect"
        " (307) to this port of the same host, where sendfile(2) sends the bytes; 0 = off",
    )
    download_url: str = Field(
        default="",
        pattern=r"^(https?://[^/?#]+/?)?$",
        description="Where clients reach DOWNLOAD_PORT, when not at the API's host name over"
        " plain HTTP (a TLS terminator, a forwarded port)",
    )
    upload_port: int = Field(
        default=0,
        ge=0,
        le=65535,
        description="Standalone: clients send chunks of uploads to files on disk to this port"
        " of the same host (every server process listens on it), where one thread per chunk"
        " receives, hashes and writes it; 0 = off",
    )
    upload_url: str = Field(
        default="",
        pattern=r"^(https?://[^/?#]+/?)?$",
        description="Where clients reach UPLOAD_PORT, when not at the API's host name over"
        " plain HTTP (a TLS terminator, a forwarded port)",
    )
    upload_page_hours: int = Field(default=24, ge=1)

    s3_bucket: str = Field(
        default="", description="Keep files in this S3-compatible bucket instead of DATA_ROOT"
    )
    s3_endpoint_url: str = Field(
        default="",
        pattern=r"^(https?://[^/?#]+/?)?$",
        description="The bucket's S3 endpoint (MinIO, Ceph, Garage, R2...); AWS when empty",
    )
    s3_region: str = Field(default="us-east-1", pattern=r"^[a-z0-9-]+$")
    s3_path_style: bool | None = Field(
        default=None,
        description="Address the bucket in the path (endpoint/bucket/key) rather than the host"
        " name; by default only with S3_ENDPOINT_URL",
    )
    s3_presigned_downloads: bool = Field(
        default=False,
        description="Signed links redirect to a presigned URL of the bucket (bytes skip the"
        " server), with the same expiry",
    )
    s3_min_part_bytes: int = Field(
        default=5 * MiB,
        ge=1,
        description="The bucket's smallest part but the last (S3: 5 MiB); CHUNK_SIZE must"
        " be at least this",
    )
    s3_timeout_seconds: float = Field(
        default=60,
        gt=0,
        description="A bucket that does not answer for this long fails the request (503)",
    )
    aws_access_key_id: str = ""
    aws_secret_access_key: SecretStr | None = None
    aws_session_token: SecretStr | None = None

    ws_heartbeat_seconds: float = Field(default=25.0, gt=0)
    ws_queue_size: int = Field(default=1024, ge=8)
    ws_max_sockets_per_user: int = Field(
        default=32, ge=1, description="Open /ws sockets one user may hold on each server process"
    )

    p2p_offer_expiry_seconds: int = Field(default=600, ge=1)

    @field_validator("database_url")
    @classmethod
    def _postgresql_url(cls, value: str) -> str:
        if value and not value.startswith(("postgresql://", "postgres://")):
            raise ValueError("must start with postgresql:// (the PostgreSQL store)")
        return value

    @model_validator(mode="after")
    def _one_database(self) -> Self:
        if self.database_url and self.mongodb_uri:
            raise ValueError("set DATABASE_URL (PostgreSQL) or MONGODB_URI (MongoDB), not both")
        return self

    @model_validator(mode="after")
    def _usable_bucket(self) -> Self:
        if not self.s3_bucket:
            return self
        if not self.aws_access_key_id or self.aws_secret_access_key is None:
            raise ValueError("S3_BUCKET needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
        if not self.s3_min_part_bytes <= self.chunk_size <= 5 * GiB:
            raise ValueError(
                f"with S3_BUCKET, CHUNK_SIZE must be from S3_MIN_PART_BYTES"
                f" ({self.s3_min_part_bytes}) to 5 GiB: each chunk is one part"
            )
        return self

    @model_validator(mode="after")
    def _usable_download_port(self) -> Self:
        if not self.download_port:
            return self
        if self.download_port == self.port:
            raise ValueError("DOWNLOAD_PORT must differ from PORT")
        if self.s3_bucket:
            raise ValueError(
                "DOWNLOAD_PORT sends files on disk; with S3_BUCKET, S3_PRESIGNED_DOWNLOADS"
                " lets the bucket send them"
            )
        return self

    @model_validator(mode="after")
    def _usable_upload_port(self) -> Self:
        if not self.upload_port:
            return self
        if self.upload_port in (self.port, self.download_port):
            raise ValueError("UPLOAD_PORT must differ from PORT and DOWNLOAD_PORT")
        if self.s3_bucket:
            raise ValueError("UPLOAD_PORT takes chunks to files on disk, not to S3_BUCKET")
        return self

    @field_validator("cors_origins", "trusted_proxies", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @property
    def database_path(self) -> Path:
        return self.data_root / "hypersend.db"

    def public_base(self, request_base_url: str) -> str:
        """The API's address as clients see it: `PUBLIC_URL`, else what the request used."""
        return self.public_url.rstrip("/") or request_base_url.rstrip("/")

    def download_port_base(self, request_base_url: str) -> str:
        """The download port's address as clients see it: `DOWNLOAD_URL`, else plain HTTP to
        the API's host name at `DOWNLOAD_PORT`."""
        return self._port_base(self.download_url, self.download_port, request_base_url)

    def upload_port_base(self, request_base_url: str) -> str:
        """The upload port's address as clients see it (as `download_port_base`)."""
        return self._port_base(self.upload_url, self.upload_port, request_base_url)

    def _port_base(self, told: str, port: int, request_base_url: str) -> str:
        if told:
            return told.rstrip("/")
        host = urlsplit(self.public_base(request_base_url)).hostname or self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{port}"

    @property
    def files_dir(self) -> Path:
        return self.data_root / "files"

    @property
    def uses_postgresql(self) -> bool:
        return bool(self.database_url)

    @property
    def uses_mongodb(self) -> bool:
        return bool(self.mongodb_uri)

    def database_description(self) -> str:
        """Which database this is, for people (no password)."""
        if self.uses_postgresql:
            return f"PostgreSQL {redacted(self.database_url)}"
        if self.uses_mongodb:
            return f"MongoDB ({self.mongodb_database})"
        return f"SQLite {self.database_path.resolve()}"

    @property
    def uses_bucket(self) -> bool:
        return bool(self.s3_bucket)

    @property
    def bucket_endpoint(self) -> str:
        return self.s3_endpoint_url or f"https://s3.{self.s3_region}.amazonaws.com"

    @property
    def bucket_path_style(self) -> bool:
        return self.s3_path_style if self.s3_path_style is not None else bool(self.s3_endpoint_url)

    @property
    def uses_redis(self) -> bool:
        return bool(self.redis_url)

    @cached_property
    def signing_key(self) -> str:
        """The configured `SECRET_KEY`, or one generated once and kept under `DATA_ROOT`."""
        if self.secret_key is not None and self.secret_key.get_secret_value():
            return self.secret_key.get_secret_value()
        return load_or_create_secret(self.data_root / "secret_key")


def load_or_create_secret(path: Path) -> str:
    """Read the key at `path`, creating it (owner-only) the first time.

    Several processes may start together on one `DATA_ROOT`: the key is written to a file of
    its own first and then linked into place (atomic; the first link wins), so no process
    ever reads a key that is still being written."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    draft = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
        handle.flush()
        os.fsync(handle.fileno())
    try:
        os.link(draft, path)
    except FileExistsError:
        pass  # another process linked its key first: use that one
    finally:
        draft.unlink()
    return path.read_text().strip()
