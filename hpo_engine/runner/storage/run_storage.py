"""What a run needs from storage, in one object the scheduler holds: see :func:`open_run_storage`.

The scheduler makes five small calls: :func:`open_run_storage` before the store opens
(credentials resolved, data synced, the definition fetcher ready), :meth:`RunStorage.start`
once the store is open (a resumed run queues what earlier runs left pending),
``uploads.trials_launched`` each time it waits for trials (the first call makes the S3
client in the background), ``uploads.trial_finished`` after each outcome, and
``uploads.finish`` at the end.
Without S3 in the manifest nothing here imports boto3 or starts a thread.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpo_engine.runner.storage.config import (
    S3Connection,
    S3Location,
    Secrets,
    cache_root,
    data_location,
    referenced_variables,
    results_location,
)
from hpo_engine.runner.storage.results_upload import NoUploads, ResultsUploader
from hpo_engine.runner.store import TrialRecord

if TYPE_CHECKING:
    from hpo_engine.manifest.model import Manifest, TrainingReference

__all__ = ["RunStorage", "open_run_storage"]

_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True, slots=True)
class RunStorage:
    """Storage of one reference's run.

    ``data_dir`` is the folder trials get as ``$DATA_DIR``; ``node_data`` is the S3 training
    data a backend with ``data_on_nodes`` syncs on each of its machines instead (then
    ``data_dir`` is ``None``); ``withheld_env`` names the
    environment variables holding credentials, removed from trial environments unless the
    command uses them; ``fetch_definition(url)`` returns a local archive for a remote
    ``training_definition_url`` (``None`` when the URL is not remote).
    """

    data_dir: str | None
    node_data: S3Location | None = None
    uploads: NoUploads = field(default_factory=NoUploads)
    withheld_env: tuple[str, ...] = ()
    secrets: Secrets = field(default_factory=Secrets)
    fetch_definition: Callable[[str], Path | None] | None = None

    @classmethod
    def local(cls, data_dir: str | None = None) -> "RunStorage":
        return cls(data_dir=data_dir)

    def start(self, trials: Iterable[TrialRecord]) -> None:
        """The store is open: queue uploads earlier runs left pending."""
        self.uploads.resume(trials)

    def close(self) -> None:
        self.uploads.close()


def _definition_connection(manifest: "Manifest", data: S3Location | None, results: S3Location | None) -> S3Connection | None:
    """An ``s3://`` definition is read with the data reference's connection, else the results one."""
    for location in (data, results):
        if location is not None:
            return location.connection
    return None


def open_run_storage(
    manifest: "Manifest",
    reference: "TrainingReference",
    folder: Path,
    reporter: Any,
    *,
    data_dir: str | None,
    data_on_nodes: bool = False,
) -> RunStorage:
    """Resolve the manifest's storage references for the run of ``reference`` in the store ``folder``.

    ``data_dir`` is the folder chosen so far (``--data-dir``, ``$DATA_DIR``, a local data
    reference); when it is ``None`` and the data reference is of type s3, the data is synced
    into the cache and its folder used; with ``data_on_nodes`` (the Ray backend) it is only
    checked to be listable here and handed over as ``node_data``, each node syncing its own
    cache before its first trial. Raises :class:`~hpo_engine.errors.StorageError`
    (masked) for unset ``${VAR}`` references or an unreachable data bucket.
    """
    results = results_location(manifest.training_results_reference)
    data = data_location(manifest.training_data_reference)
    has_remote_definition = bool(reference.training_definition_url and "://" in reference.training_definition_url
                                 and not reference.training_definition_url.lower().startswith("file:"))
    if results is None and data is None and not has_remote_definition:
        return RunStorage.local(data_dir)
    secrets = Secrets()
    for location in (results, data):
        if location is not None:
            secrets = secrets.merged(location.connection.secrets)
    command = reference.command or ""
    used = {m.group(1) or m.group(2) for m in _VARIABLE.finditer(command)}
    withheld = tuple(name for name in referenced_variables(results, data) if name not in used)
    node_data = None
    if data is not None and data_dir is None and data_on_nodes:
        from hpo_engine.runner.storage.data_sync import check_listable

        check_listable(data)
        reporter.note(f"training data {data.url}: synced by each Ray node into its own cache before its first trial")
        node_data = data
    elif data is not None and data_dir is None:
        from hpo_engine.runner.storage.data_sync import sync_data

        synced = sync_data(data, cache_root() / "data")
        reporter.note(f"training data {data.url}: {synced.fetched} object(s) fetched, {synced.reused} unchanged, in {synced.folder}")
        data_dir = str(synced.folder)
    connection = _definition_connection(manifest, data, results)

    def fetch(url: str) -> Path | None:
        from hpo_engine.runner.storage.definitions import fetch_definition

        return fetch_definition(url, cache_root() / "definitions", connection)

    uploads: NoUploads = NoUploads()
    if results is not None:
        uploads = ResultsUploader(results, folder, lambda line, warning: reporter.note(secrets.mask(line), warning=warning))
    return RunStorage(data_dir=data_dir, node_data=node_data, uploads=uploads, withheld_env=withheld, secrets=secrets, fetch_definition=fetch)
