"""Find a training definition on this machine: a folder, a ``file://`` URL or a ``.zip``.

The manifest's ``training_definition_url`` named an asset stored by the original
service. Here it may be a local folder, a ``file://`` URL of one, or a local
``.zip`` archive (extracted once into a cache folder). Relative paths are relative
to the manifest's folder. A remote URL cannot be fetched: it is an error unless an
override folder (the CLI's ``--definition DIR``) is given.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from urllib.parse import unquote, urlsplit

from hpo_engine.errors import TrialError

__all__ = ["resolve_definition", "extract_definition_zip"]

_MAC_METADATA = "__MACOSX"


def resolve_definition(
    url: str | None, base_dir: Path, override: Path | None, cache_dir: Path
) -> Path | None:
    """Return the local folder holding the training definition, or ``None`` when there is none.

    ``override`` (``--definition DIR``) wins over ``url``. ``base_dir`` is the manifest's
    folder; relative paths and ``file:`` URLs without a leading ``/`` are relative to it.
    A ``.zip`` is extracted into a sub-folder of ``cache_dir`` named after its path, size
    and modification time, so it is extracted once and re-extracted when it changes.

    Raises :class:`TrialError` for a remote URL, a missing path, a file that is not a
    zip archive, or an archive with members that would land outside its folder.
    """
    if override is not None:
        folder = Path(override).expanduser()
        if not folder.is_dir():
            raise TrialError(f"--definition {override}: no such folder")
        return folder.resolve()
    if url is None or not url.strip():
        return None
    path = _local_path(url.strip(), Path(base_dir))
    if path.is_dir():
        return path.resolve()
    if path.is_file():
        if zipfile.is_zipfile(path):
            return extract_definition_zip(path.resolve(), Path(cache_dir))
        raise TrialError(
            f"training_definition_url {url!r}: {path} is neither a folder nor a .zip archive"
        )
    raise TrialError(f"training_definition_url {url!r}: {path} does not exist")


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
            f"training_definition_url {url!r} is a remote URL ({scheme}); hpo runs training "
            "definitions from this machine only: download it and pass --definition DIR, "
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
        for member in bundle.namelist():
            name = PurePosixPath(member.replace("\\", "/"))
            if name.is_absolute() or ".." in name.parts:
                raise TrialError(
                    f"training definition {archive}: member {member!r} would be extracted "
                    "outside its folder"
                )
        bundle.extractall(destination)


def _definition_root(extracted: Path) -> Path:
    entries = [entry for entry in extracted.iterdir() if entry.name != _MAC_METADATA]
    if len(entries) == 1 and entries[0].is_dir():
        return entries[0]
    return extracted
