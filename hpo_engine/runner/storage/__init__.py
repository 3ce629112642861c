"""Object storage for a run: results to S3, training data from S3, definitions from URLs.

Rooms: ``config`` (the manifest's ``training_results_reference`` / ``training_data_reference``
as typed S3 locations, ``${VAR}`` credentials, masking), ``s3`` (a boto3 client from a
connection, with errors turned into :class:`~hpo_engine.errors.StorageError`), ``uploads``
(the background upload queue and its crash-safe journal), ``data_sync`` (the training data
cache, by ETag and size) and ``definitions`` (fetching ``training_definition_url`` from
``http(s)://`` or ``s3://`` into a content-keyed cache, unpacked safely).

boto3 is imported only when a manifest uses S3 (start-up time of the CLI).
"""

from __future__ import annotations

from hpo_engine.runner.storage.config import (
    KNOWN_STORAGE_TYPES,
    S3Connection,
    S3Location,
    Secrets,
    cache_root,
    data_location,
    results_location,
)

__all__ = [
    "KNOWN_STORAGE_TYPES",
    "S3Connection",
    "S3Location",
    "Secrets",
    "cache_root",
    "data_location",
    "results_location",
]
