"""``hpo sync``: upload what earlier runs of a reference left pending, holding the run lock."""

from __future__ import annotations

import fcntl
from pathlib import Path
from typing import TYPE_CHECKING

from hpo_engine.errors import StorageError, StoreError
from hpo_engine.runner.storage.config import results_location
from hpo_engine.runner.storage.results_upload import ResultsUploader
from hpo_engine.runner.storage.uploads import Upload
from hpo_engine.runner.store import ResultStore, store_folder

if TYPE_CHECKING:
    from hpo_engine.manifest.model import Manifest, TrainingReference

__all__ = ["sync_reference"]


def sync_reference(manifest: "Manifest", reference: "TrainingReference", results_root: Path) -> tuple[int, list[Upload], str]:
    """Upload the pending files of ``reference``'s store; returns (uploaded, still pending, bucket URL).

    Raises :class:`StorageError` when the manifest has no results reference of type s3,
    :class:`StoreError` when the experiment has not run or a run is using it.
    """
    from hpo_engine.runner.experiment_folder import LOCK_FILENAME

    location = results_location(manifest.training_results_reference)
    if location is None:
        raise StorageError("the manifest's training_results_reference is not of type s3: nothing to sync")
    folder = store_folder(results_root, manifest.settings.name, reference.name)
    if not ResultStore.exists(folder):
        raise StoreError(f"no results of reference {reference.name!r} in {folder}: run `hpo run` first (or pass --results DIR)")
    with open(folder / LOCK_FILENAME, "a+") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise StoreError(f"an `hpo run` is using {folder}; it uploads its results itself") from None
        with ResultStore.open(folder) as store:
            trials = store.trials()
        uploader = ResultsUploader(location, folder, lambda line, warning: None)
        try:
            uploaded, pending = uploader.sync(trials)
        finally:
            uploader.close()
    return uploaded, pending, uploader.url
