"""The file store the settings ask for: an S3-compatible bucket with `S3_BUCKET`, else the
disk under `DATA_ROOT/files`."""

from hypersend.config import Settings
from hypersend.files.disk import DiskStore
from hypersend.files.s3.client import Bucket, S3Client
from hypersend.files.s3.signing import Credentials
from hypersend.files.s3.store import S3Store
from hypersend.files.store import FileStore


def open_file_store(settings: Settings) -> FileStore:
    return bucket_store(settings) if settings.uses_bucket else disk_store(settings)


def disk_store(settings: Settings) -> DiskStore:
    return DiskStore(
        settings.files_dir,
        durable=settings.durable_uploads,
        direct=settings.direct_writes,
        min_free_bytes=settings.min_free_disk_bytes,
    )


def bucket_store(settings: Settings) -> S3Store:
    secret = settings.aws_secret_access_key
    token = settings.aws_session_token
    client = S3Client(
        Bucket(
            name=settings.s3_bucket,
            endpoint_url=settings.bucket_endpoint,
            region=settings.s3_region,
            path_style=settings.bucket_path_style,
        ),
        Credentials(
            settings.aws_access_key_id,
            secret.get_secret_value() if secret else "",
            token.get_secret_value() if token else "",
        ),
        timeout=settings.s3_timeout_seconds,
    )
    return S3Store(
        client,
        chunk_size=settings.chunk_size,
        presigned_downloads=settings.s3_presigned_downloads,
    )
