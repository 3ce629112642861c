"""Find a training definition: a folder, a ``file://`` URL, a ``.zip``, or a remote archive.

The manifest's ``training_definition_url`` named an asset stored by the original
service. Here it may be a local folder, a ``file://`` URL of one, a local ``.zip``
archive (extracted once into a cache folder), or an ``http(s)://`` / ``s3://`` URL of a
zip, fetched by ``fetch`` (see :mod:`hpo_engine.runner.storage.definitions`). Relative
paths are relative to the manifest's folder.

Archives are unpacked safely: a member with an absolute path, a ``..`` part or a drive
letter, a symbolic link, more than :data:`MAX_MEMBERS` members or more than
:data:`MAX_UNPACKED_BYTES` unpacked is refused with one message.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat as stat_module
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from hpo_engine.errors import TrialError

__all__ = ["resolve_definition", "extract_definition_zip"]

_MAC_METADATA = "__MACOSX"
#: Most members and bytes (unpacked) a training definition archive may hold.
MAX_MEMBERS = 20_000
MAX_UNPACKED_BYTES = 1024 * 1024 * 1024


def resolve_definition(
    url: str | None,
    base_dir: Path,
    override: Path | None,
    cache_dir: Path,
    fetch: Callable[[str], Path | None] | None = None,
) -> Path | None:
    """Return the local folder holding the training definition, or ``None`` when there is none.

    ``override`` (``--definition DIR``) wins over ``url``. ``base_dir`` is the manifest's
    folder; relative paths and ``file:`` URLs without a leading ``/`` are relative to it.
    A ``.zip`` is extracted into a sub-folder of ``cache_dir`` named after its path, size
    and modification time, so it is extracted once and re-extracted when it changes.

    ``fetch(url)`` returns a local copy of a remote archive (``None``: not remote); without
    it a remote URL is an error naming ``--definition DIR``.

    Raises :class:`TrialError` for a remote URL that cannot be fetched, a missing path, a
    file that is not a zip archive, or an archive refused by the safety rules.
    """
    if override is not None:
        folder = Path(override).expanduser()
        if not folder.is_dir():
            raise TrialError(f"--definition {override}: no such folder")
        return folder.resolve()
    if url is None or not url.strip():
        return None
    url = url.strip()
    fetched = fetch(url) if fetch is not None and _is_remote(url) else None
    if fetched is not None:
        if not zipfile.is_zipfile(fetched):
            raise TrialError(f"training_definition_url {url!r}: what it holds is not a .zip archive")
        return extract_definition_zip(Path(fetched).resolve(), Path(cache_dir))
    path = _local_path(url, Path(base_dir))
    if path.is_dir():
        return path.resolve()
    if path.is_file():
        if zipfile.is_zipfile(path):
            return extract_definition_zip(path.resolve(), Path(cache_dir))
        raise TrialError(
            f"training_definition_url {url!r}: {path} is neither a folder nor a .zip archive"
        )
    raise TrialError(f"training_definition_url {url!r}: {path} does not exist")


def _is_remote(url: str) -> bool:
    scheme = urlsplit(url).scheme.lower()
    return len(scheme) > 1 and scheme != "file"


def _local_path(url: str, base_dir: Path) -> Path:
    """The path ``url`` names on this machine; raises :class:`TrialError` for a remote URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "file":
        host = parts.netloc
        if host in ("", "localhost"):
            raw = unquote(parts.path)
        else:
            # "file://folder/def" is read as the relative path "folder/def".
            raw = unquote(host + parts.path)
    elif scheme and len(scheme) > 1:
        raise TrialError(
            f"training_definition_url {url!r} is a remote URL ({scheme}) that hpo cannot fetch "
            "(it fetches http://, https:// and s3:// zip archives): download it and pass --definition DIR, "
            "or set training_definition_url to a local folder, file:// URL or .zip"
        )
    else:
        raw = url
    path = Path(raw).expanduser()
    if not path.is_absolute():
        path = base_dir / path
    return path


def extract_definition_zip(archive: Path, cache_dir: Path) -> Path:
    """Extract ``archive`` into ``cache_dir`` once and return the definition folder.

    When the archive holds a single top-level folder (and nothing else but macOS
    metadata), that folder is the definition. Extraction goes to a temporary folder
    first and is renamed into place, so concurrent runs never see a half-extracted tree.
    """
    stat = archive.stat()
    key = hashlib.sha256(f"{archive}|{stat.st_size}|{stat.st_mtime_ns}".encode()).hexdigest()[:16]
    target = cache_dir / f"{archive.stem}-{key}"
    if not target.is_dir():
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{archive.stem}-", dir=cache_dir))
        try:
            _safe_extract(archive, staging)
            try:
                os.replace(staging, target)
            except OSError:
                if not target.is_dir():  # not a concurrent extraction that won the race
                    raise
        except (OSError, zipfile.BadZipFile) as exc:
            raise TrialError(f"cannot extract training definition {archive}: {exc}") from exc
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    return _definition_root(target)


def _safe_extract(archive: Path, destination: Path) -> None:
    with zipfile.ZipFile(archive) as bundle:
        members = bundle.infolist()
        if len(members) > MAX_MEMBERS:
            raise TrialError(f"training definition {archive}: {len(members)} members, more than {MAX_MEMBERS}; refused")
        total = 0
        for info in members:
            member = info.filename
            name = PurePosixPath(member.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts or (name.parts and ":" in name.parts[0]):
                raise TrialError(
                    f"training definition {archive}: member {member!r} would be extracted "
                    "outside its folder"
                )
            mode = info.external_attr >> 16
            if stat_module.S_ISLNK(mode):
                raise TrialError(f"training definition {archive}: member {member!r} is a symbolic link; refused")
            total += info.file_size
            if total > MAX_UNPACKED_BYTES:
                raise TrialError(
                    f"training definition {archive}: more than {MAX_UNPACKED_BYTES // (1024 * 1024)} MiB unpacked; refused"
                )
        bundle.extractall(destination)


def _definition_root(extracted: Path) -> Path:
    entries = [entry for entry in extracted.iterdir() if entry.name != _MAC_METADATA]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return extracted
