"""The manifest's storage references as typed S3 locations, with credentials from the environment.

``training_results_reference`` and ``training_data_reference`` of ``type: s3``::

    connection: {endpoint_url, access_key_id, secret_access_key, (optional) region}
    target:     {bucket, (optional) prefix}      # results
    source:     {bucket, (optional) prefix}      # data (``target`` is accepted too)

A value written ``${VAR}`` (or ``$VAR``) is read from the environment when the run
starts; an unset variable is an error that names it. Credential values are collected
in :class:`Secrets` so that any message can be masked before it is shown or stored.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hpo_engine.errors import StorageError
from hpo_engine.manifest.validation.storage_checks import KNOWN_STORAGE_TYPES

__all__ = [
    "KNOWN_STORAGE_TYPES",
    "S3Connection",
    "S3Location",
    "Secrets",
    "cache_root",
    "data_location",
    "results_location",
    "referenced_variables",
]

#: Environment variable naming the cache folder (data, fetched definitions); default ``~/.cache/hpo``.
CACHE_ENV = "HPO_CACHE_DIR"

_REFERENCE = re.compile(r"^\s*\$\{([A-Za-z_][A-Za-z0-9_]*)\}\s*$|^\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*$")
_MASK = "****"
_ENDPOINT = re.compile(r"^https?://[^/\s<>]+(/\S*)?$", re.IGNORECASE)


class Secrets:
    """Secret strings (credential values) and :meth:`mask` to hide them in any text."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._values = sorted({v for v in values if v and len(v) >= 3}, key=len, reverse=True)

    def __bool__(self) -> bool:
        return bool(self._values)

    def mask(self, text: object) -> str:
        """``text`` with every secret replaced by ``****``."""
        result = str(text)
        for value in self._values:
            result = result.replace(value, _MASK)
        return result

    def merged(self, other: "Secrets") -> "Secrets":
        return Secrets([*self._values, *other._values])


@dataclass(frozen=True, slots=True)
class S3Connection:
    """Where the S3 server is and how to sign in; ``endpoint_url`` ``None`` means AWS.

    ``variables`` names the environment variables the values came from (kept out of
    trial environments unless the command uses them).
    """

    endpoint_url: str | None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    region: str | None = None
    variables: tuple[str, ...] = ()

    @property
    def secrets(self) -> Secrets:
        return Secrets(v for v in (self.access_key_id, self.secret_access_key, self.session_token) if v)


@dataclass(frozen=True, slots=True)
class S3Location:
    """A bucket and a key prefix in it (no leading or trailing ``/``; ``""``: the whole bucket)."""

    connection: S3Connection
    bucket: str
    prefix: str = ""

    def key(self, *parts: str) -> str:
        """``<prefix>/<part>/...`` with empty parts left out."""
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p and p.strip("/"))

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def _resolve(value: Any, what: str, variables: list[str], environ: Mapping[str, str]) -> str | None:
    if value is None:
        return None
    text = str(value)
    match = _REFERENCE.match(text)
    if not match:
        return text.strip()
    name = match.group(1) or match.group(2)
    variables.append(name)
    if name not in environ or not environ[name]:
        raise StorageError(f"{what} is ${{{name}}}, but the environment variable {name} is not set")
    return environ[name]


def _connection(ref: Mapping[str, Any], where: str, environ: Mapping[str, str]) -> S3Connection:
    raw = ref.get("connection")
    raw = raw if isinstance(raw, Mapping) else {}
    variables: list[str] = []

    def get(*keys: str) -> str | None:
        for key in keys:
            if raw.get(key) not in (None, ""):
                return _resolve(raw[key], f"{where}.connection.{key}", variables, environ)
        return None

    endpoint = get("endpoint_url", "endpoint")
    if endpoint is not None and not _ENDPOINT.match(endpoint):
        raise StorageError(
            f"{where}.connection.endpoint_url {endpoint!r} is not an http:// or https:// URL; "
            "write your S3 server's, e.g. http://127.0.0.1:9000"
        )
    return S3Connection(
        endpoint_url=endpoint,
        access_key_id=get("access_key_id", "aws_access_key_id"),
        secret_access_key=get("secret_access_key", "aws_secret_access_key"),
        session_token=get("session_token"),
        region=get("region", "region_name"),
        variables=tuple(dict.fromkeys(variables)),
    )


def _location(ref: Any, where: str, sides: tuple[str, ...], environ: Mapping[str, str]) -> S3Location | None:
    if not isinstance(ref, Mapping) or str(ref.get("type", "")).strip().lower() != "s3":
        return None
    part: Mapping[str, Any] = {}
    for side in sides:
        if isinstance(ref.get(side), Mapping):
            part = ref[side]
            break
    bucket = part.get("bucket")
    if not isinstance(bucket, str) or not bucket.strip():
        raise StorageError(f"{where} of type s3 needs {sides[0]}.bucket")
    variables: list[str] = []
    bucket = _resolve(bucket, f"{where}.{sides[0]}.bucket", variables, environ) or ""
    prefix = _resolve(part.get("prefix") or "", f"{where}.{sides[0]}.prefix", variables, environ) or ""
    connection = _connection(ref, where, environ)
    if variables:
        connection = dataclasses.replace(connection, variables=tuple(dict.fromkeys([*connection.variables, *variables])))
    return S3Location(connection=connection, bucket=bucket.strip(), prefix=prefix.strip("/ "))


def results_location(ref: Any, environ: Mapping[str, str] | None = None) -> S3Location | None:
    """The S3 location of ``training_results_reference`` (``None`` unless its type is ``s3``)."""
    return _location(ref, "training_results_reference", ("target",), os.environ if environ is None else environ)


def data_location(ref: Any, environ: Mapping[str, str] | None = None) -> S3Location | None:
    """The S3 location of ``training_data_reference`` (``None`` unless its type is ``s3``)."""
    return _location(ref, "training_data_reference", ("source", "target"), os.environ if environ is None else environ)


def referenced_variables(*locations: S3Location | None) -> tuple[str, ...]:
    """Environment variables the locations' values came from."""
    return tuple(dict.fromkeys(v for loc in locations if loc is not None for v in loc.connection.variables))


def cache_root(environ: Mapping[str, str] | None = None) -> Path:
    """``$HPO_CACHE_DIR``, else ``$XDG_CACHE_HOME/hpo``, else ``~/.cache/hpo``."""
    environ = os.environ if environ is None else environ
    if environ.get(CACHE_ENV):
        return Path(environ[CACHE_ENV]).expanduser()
    if environ.get("XDG_CACHE_HOME"):
        return Path(environ["XDG_CACHE_HOME"]).expanduser() / "hpo"
    return Path.home() / ".cache" / "hpo"
