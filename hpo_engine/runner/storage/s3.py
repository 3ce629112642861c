"""A boto3 S3 client made from a manifest's connection, with errors as :class:`StorageError`.

boto3 is imported here, lazily: only a run whose manifest uses S3 pays for it. The
client does no retries of its own (the upload queue retries with backoff) and gives
up connecting after a few seconds, so a dead server is noticed quickly.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hpo_engine.errors import StorageError
from hpo_engine.runner.storage.config import S3Connection, S3Location, Secrets

__all__ = ["ObjectInfo", "Bucket", "is_transient"]

#: Seconds to wait for a TCP connection / for a response.
CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One object: its key, size in bytes and ETag (quotes removed)."""

    key: str
    size: int
    etag: str


def is_transient(error: BaseException) -> bool:
    """Whether retrying later may succeed: connection trouble, timeouts, throttling, 5xx."""
    from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError

    if isinstance(error, ClientError):
        status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        code = str(error.response.get("Error", {}).get("Code", ""))
        return status >= 500 or status == 429 or code in ("SlowDown", "RequestTimeout", "Throttling")
    return isinstance(error, (BotoCoreError, EndpointConnectionError, OSError))


def _client(connection: S3Connection) -> Any:
    try:
        import boto3
        from botocore.config import Config
    except ImportError as exc:  # pragma: no cover - boto3 is a dependency
        raise StorageError("S3 storage needs boto3 (pip install boto3)") from exc
    config = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"max_attempts": 1, "mode": "standard"},
        s3={"addressing_style": "path"},
        signature_version="s3v4",
    )
    session = boto3.session.Session()
    return session.client(
        "s3",
        endpoint_url=connection.endpoint_url or None,
        aws_access_key_id=connection.access_key_id,
        aws_secret_access_key=connection.secret_access_key,
        aws_session_token=connection.session_token,
        region_name=connection.region or "us-east-1",
        config=config,
    )


class Bucket:
    """The objects of one :class:`S3Location`; every method raises :class:`StorageError` (masked).

    Thread-safe: boto3 clients may be shared between threads.
    """

    def __init__(self, location: S3Location) -> None:
        self.location = location
        self.secrets: Secrets = location.connection.secrets
        try:
            self._client = _client(location.connection)
        except StorageError:
            raise
        except Exception as exc:  # botocore refuses the endpoint, region...
            raise StorageError(self.secrets.mask(f"cannot connect to {location.connection.endpoint_url or 'AWS S3'}: {exc}")) from None

    def _error(self, action: str, exc: BaseException) -> StorageError:
        where = self.location.connection.endpoint_url or "AWS S3"
        return StorageError(self.secrets.mask(f"{action} on {where}: {exc}"), transient=is_transient(exc))

    def put_file(self, path: Path, key: str) -> None:
        """Upload the file ``path`` as ``key`` (bucket-relative)."""
        try:
            with open(path, "rb") as handle:
                self._client.put_object(Bucket=self.location.bucket, Key=key, Body=handle)
        except Exception as exc:
            raise self._error(f"cannot upload {path.name} to s3://{self.location.bucket}/{key}", exc) from None

    def put_bytes(self, data: bytes, key: str) -> None:
        try:
            self._client.put_object(Bucket=self.location.bucket, Key=key, Body=data)
        except Exception as exc:
            raise self._error(f"cannot upload s3://{self.location.bucket}/{key}", exc) from None

    def head(self, key: str) -> ObjectInfo | None:
        """The object ``key``, or ``None`` when there is none."""
        from botocore.exceptions import ClientError

        try:
            answer = self._client.head_object(Bucket=self.location.bucket, Key=key)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise self._error(f"cannot read s3://{self.location.bucket}/{key}", exc) from None
        except Exception as exc:
            raise self._error(f"cannot read s3://{self.location.bucket}/{key}", exc) from None
        return ObjectInfo(key, int(answer.get("ContentLength", 0)), str(answer.get("ETag", "")).strip('"'))

    def list(self, prefix: str | None = None) -> Iterator[ObjectInfo]:
        """Every object whose key starts with ``prefix`` (default: the location's prefix + ``/``)."""
        if prefix is None:
            prefix = self.location.prefix + "/" if self.location.prefix else ""
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.location.bucket, Prefix=prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    yield ObjectInfo(item["Key"], int(item["Size"]), str(item.get("ETag", "")).strip('"'))
        except Exception as exc:
            raise self._error(f"cannot list s3://{self.location.bucket}/{prefix}", exc) from None

    def get_file(self, key: str, path: Path) -> None:
        """Download ``key`` to ``path`` through a temporary file in the same folder (atomic)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".part-", dir=path.parent)
        try:
            with os.fdopen(handle, "wb") as out:
                self._client.download_fileobj(self.location.bucket, key, out)
            os.replace(temporary, path)
        except Exception as exc:
            raise self._error(f"cannot download s3://{self.location.bucket}/{key}", exc) from None
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._client.get_object(Bucket=self.location.bucket, Key=key)["Body"].read()
        except Exception as exc:
            raise self._error(f"cannot download s3://{self.location.bucket}/{key}", exc) from None
