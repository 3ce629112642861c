"""Fetching a remote ``training_definition_url`` (``http://``, ``https://``, ``s3://``) into a cache.

An archive is downloaded once into ``<cache>/archives/<sha256 of its content>.zip``
(content-keyed: the same archive behind two URLs is stored once); ``<cache>/urls/<sha256
of the URL>.json`` remembers which content a URL gave and its ETag. A later run asks
again with ``If-None-Match`` (http) or compares the object's ETag (s3) and reuses the
archive when it did not change. Downloads larger than :data:`MAX_ARCHIVE_BYTES` are
refused. Unpacking (safely) is :func:`hpo_engine.runner.trials.definition.extract_definition_zip`.

WML asset URLs (``.../v3/ml_assets/...``, ``.../v4/...`` of the original service) cannot be
fetched: they give one clear error naming ``--definition DIR``.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from hpo_engine.errors import StorageError
from hpo_engine.manifest.validation.storage_checks import is_wml_asset_url
from hpo_engine.runner.storage.config import S3Connection, S3Location

__all__ = ["fetch_definition", "is_wml_asset_url", "MAX_ARCHIVE_BYTES", "REMOTE_SCHEMES"]

#: Largest training definition archive fetched, in bytes (256 MiB).
MAX_ARCHIVE_BYTES = 256 * 1024 * 1024
#: Seconds to wait for an http(s) server.
HTTP_TIMEOUT = 30.0
REMOTE_SCHEMES = ("http", "https", "s3")

def _url_entry(cache: Path, url: str) -> Path:
    return cache / "urls" / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".json")


def _remembered(cache: Path, url: str) -> dict | None:
    entry = _url_entry(cache, url)
    try:
        data = json.loads(entry.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    archive = cache / "archives" / f"{data.get('sha256')}.zip"
    return data if archive.is_file() else None


def _store(cache: Path, url: str, temporary: Path, etag: str | None) -> Path:
    digest = hashlib.sha256()
    with open(temporary, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    sha = digest.hexdigest()
    archive = cache / "archives" / f"{sha}.zip"
    archive.parent.mkdir(parents=True, exist_ok=True)
    os.replace(temporary, archive)
    entry = _url_entry(cache, url)
    entry.parent.mkdir(parents=True, exist_ok=True)
    partial = entry.with_suffix(".part")
    partial.write_text(json.dumps({"url": url, "sha256": sha, "etag": etag}), encoding="utf-8")
    os.replace(partial, entry)
    return archive


def _copy_limited(source, out, what: str) -> None:
    total = 0
    for block in iter(lambda: source.read(1 << 20), b""):
        total += len(block)
        if total > MAX_ARCHIVE_BYTES:
            raise StorageError(f"{what}: larger than {MAX_ARCHIVE_BYTES // (1024 * 1024)} MiB; refused")
        out.write(block)


def _fetch_http(url: str, cache: Path) -> Path:
    known = _remembered(cache, url)
    request = urllib.request.Request(url, headers={"User-Agent": "hpo"})
    if known and known.get("etag"):
        request.add_header("If-None-Match", known["etag"])
    (cache / "archives").mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".download-", dir=cache / "archives")
    temporary = Path(name)
    try:
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT) as answer, os.fdopen(handle, "wb") as out:
                length = answer.headers.get("Content-Length")
                if length and length.isdigit() and int(length) > MAX_ARCHIVE_BYTES:
                    raise StorageError(f"training_definition_url {url}: larger than {MAX_ARCHIVE_BYTES // (1024 * 1024)} MiB; refused")
                _copy_limited(answer, out, f"training_definition_url {url}")
                etag = answer.headers.get("ETag")
        except urllib.error.HTTPError as exc:
            if exc.code == 304 and known:
                return cache / "archives" / f"{known['sha256']}.zip"
            raise StorageError(f"training_definition_url {url}: the server answered {exc.code} {exc.reason} (or pass --definition DIR)") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise StorageError(f"training_definition_url {url}: cannot fetch it ({reason}); or pass --definition DIR") from None
        return _store(cache, url, temporary, etag)
    finally:
        temporary.unlink(missing_ok=True)


def _fetch_s3(url: str, cache: Path, connection: S3Connection | None) -> Path:
    from hpo_engine.runner.storage.s3 import Bucket

    parts = urlsplit(url)
    key = parts.path.lstrip("/")
    if not parts.netloc or not key:
        raise StorageError(f"training_definition_url {url}: expected s3://BUCKET/KEY")
    location = S3Location(connection or S3Connection(endpoint_url=None), parts.netloc, "")
    bucket = Bucket(location)
    info = bucket.head(key)
    if info is None:
        raise StorageError(f"training_definition_url {url}: no such object")
    if info.size > MAX_ARCHIVE_BYTES:
        raise StorageError(f"training_definition_url {url}: larger than {MAX_ARCHIVE_BYTES // (1024 * 1024)} MiB; refused")
    known = _remembered(cache, url)
    if known and known.get("etag") == info.etag:
        return cache / "archives" / f"{known['sha256']}.zip"
    (cache / "archives").mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".download-", dir=cache / "archives")
    os.close(handle)
    temporary = Path(name)
    try:
        bucket.get_file(key, temporary)
        return _store(cache, url, temporary, info.etag)
    finally:
        temporary.unlink(missing_ok=True)


def fetch_definition(url: str, cache: Path, connection: S3Connection | None = None) -> Path | None:
    """The local archive of the remote ``url``; ``None`` when ``url`` is not ``http(s)://`` or ``s3://``.

    ``connection`` signs ``s3://`` requests (the data reference's, else the results one;
    without any, boto3's standard environment: ``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``...).
    Raises :class:`StorageError` when it cannot be fetched.
    """
    scheme = urlsplit(url).scheme.lower()
    if scheme not in REMOTE_SCHEMES:
        return None
    if is_wml_asset_url(url):
        raise StorageError(
            f"training_definition_url {url} is an asset of the original Watson Machine Learning service, "
            "which hpo cannot fetch: download it and pass --definition DIR (or point the URL at a zip or folder)"
        )
    cache = Path(cache)
    if scheme == "s3":
        return _fetch_s3(url, cache, connection)
    return _fetch_http(url, cache)
