"""Checks of the storage fields: ``training_results_reference``, ``training_data_reference``, ``training_definition_url``.

One rule each, shared with the engine (:mod:`hpo_engine.runner.storage` imports
:data:`KNOWN_STORAGE_TYPES` and :func:`is_wml_asset_url` from here):

* HPO250 (error): a reference of type ``s3`` without its bucket (``target.bucket`` for
  results, ``source.bucket`` or ``target.bucket`` for data);
* HPO251 (warning): a reference of type ``s3`` without ``connection.endpoint_url`` (AWS S3 is used);
* HPO252 (warning): a ``type`` hpo does not honour (the reference is ignored);
* HPO253 (warning): a ``training_definition_url`` that is an asset of the original service
  (cannot be fetched) or has a scheme hpo does not fetch;
* HPO254 (info): a ``${VAR}`` in a connection or bucket that is not set in this environment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from hpo_engine.manifest.problems import Suggestion
from hpo_engine.manifest.spans import Span, TextEdit
from hpo_engine.manifest.suggest import rank_similar

__all__ = ["storage_problems", "KNOWN_STORAGE_TYPES", "FETCHED_SCHEMES", "is_wml_asset_url"]

#: ``type`` values hpo honours: ``s3`` (any S3-compatible server) and ``fs`` (a local folder).
KNOWN_STORAGE_TYPES = ("s3", "fs")
#: Schemes of ``training_definition_url`` hpo fetches (besides local paths).
FETCHED_SCHEMES = ("file", "http", "https", "s3")

_WML_PATH = re.compile(r"/v[34]/(ml_assets|training_definitions|libraries|models)/", re.IGNORECASE)
_WML_HOSTS = ("ml.cloud.ibm.com", "ibm-watson-ml.mybluemix.net")
_REFERENCE = re.compile(r"^\s*\$\{([A-Za-z_][A-Za-z0-9_]*)\}\s*$|^\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*$")

Add = Callable[[str, str, Span, tuple[Suggestion, ...]], None]
SpanOf = Callable[[list[Any]], Span]


def is_wml_asset_url(url: str) -> bool:
    """Whether ``url`` names an asset stored by the original Watson Machine Learning service."""
    parts = urlsplit(url.strip())
    host = (parts.hostname or "").lower()
    return parts.scheme.lower() in ("http", "https") and (bool(_WML_PATH.search(parts.path)) or host.endswith(_WML_HOSTS))


def _reference(add: Add, span: SpanOf, environ: Mapping[str, str], key: str, ref: Mapping[str, Any]) -> None:
    kind = ref.get("type")
    if kind is None or not isinstance(kind, str):
        return
    if kind.strip().lower() not in KNOWN_STORAGE_TYPES:
        where = span([key, "type"])
        ranked = rank_similar(kind.strip().lower(), KNOWN_STORAGE_TYPES)
        message = f"Storage type {kind!r} is not one hpo honours ({', '.join(KNOWN_STORAGE_TYPES)}): {key} is ignored"
        message += f"; did you mean '{ranked[0]}'?" if ranked else "."
        add("HPO252", message, where, tuple(Suggestion(f"Change to '{c}'", (TextEdit(where, c),), c) for c in ranked))
        return
    if kind.strip().lower() != "s3":
        return
    sides = ("target",) if key == "training_results_reference" else ("source", "target")
    side = next((s for s in sides if isinstance(ref.get(s), Mapping)), None)
    bucket = ref[side].get("bucket") if side else None
    if not isinstance(bucket, str) or not bucket.strip():
        path = [key, side, "bucket"] if side and "bucket" in ref[side] else [key, side] if side else [key, "type"]
        add("HPO250", f"{key} of type s3 needs {sides[0]}.bucket: the bucket {'results go to' if sides == ('target',) else 'the data is read from'}.", span(path), ())
    connection = ref.get("connection")
    connection = connection if isinstance(connection, Mapping) else {}
    if not isinstance(connection.get("endpoint_url"), str) or not connection["endpoint_url"].strip():
        path = [key, "connection"] if "connection" in ref else [key, "type"]
        add("HPO251", f"{key} of type s3 has no connection.endpoint_url: AWS S3 is used. Set it for MinIO, Ceph or IBM COS.", span(path), ())
    values = [([key, "connection", k], v) for k, v in connection.items()]
    if side:
        values += [([key, side, k], v) for k, v in ref[side].items() if k in ("bucket", "prefix")]
    for path, value in values:
        match = _REFERENCE.match(value) if isinstance(value, str) else None
        name = match and (match.group(1) or match.group(2))
        if name and name not in environ:
            add("HPO254", f"${{{name}}} is not set in this environment; `hpo run` reads it when the run starts and stops if it is unset.", span(path), ())


def storage_problems(add: Add, span: SpanOf, data: Mapping[str, Any], environ: Mapping[str, str]) -> None:
    """Report the storage problems of the manifest ``data`` through ``add(code, message, span, suggestions)``."""
    for key in ("training_results_reference", "training_data_reference"):
        if isinstance(data.get(key), Mapping):
            _reference(add, span, environ, key, data[key])
    references = data.get("training_references")
    for index, reference in enumerate(references if isinstance(references, list) else []):
        url = reference.get("training_definition_url") if isinstance(reference, Mapping) else None
        if not isinstance(url, str) or not url.strip():
            continue
        path = ["training_references", index, "training_definition_url"]
        scheme = urlsplit(url.strip()).scheme.lower()
        if is_wml_asset_url(url):
            add("HPO253", "This is an asset of the original Watson Machine Learning service, which hpo cannot fetch: "
                "point it at a folder, a .zip, or an http(s):// or s3:// zip, or run with --definition DIR.", span(path), ())
        elif len(scheme) > 1 and scheme not in FETCHED_SCHEMES:
            add("HPO253", f"hpo cannot fetch {scheme}:// URLs ({', '.join(FETCHED_SCHEMES)} only): run with --definition DIR.", span(path), ())
