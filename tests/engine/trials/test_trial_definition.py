"""Finding the training definition: folder, file:// URL, .zip, remote URL."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from hpo_engine.runner.backends.base import TrialSpec

from hpo_engine.runner.trial_state import TrialState
from hpo_engine.errors import TrialError
from hpo_engine.runner.trials import resolve_definition, run_trial


@pytest.fixture
def manifest_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "project"
    (folder / "code").mkdir(parents=True)
    (folder / "code" / "train.py").write_text('print("accuracy=0.5")\n')
    return folder


def _zip(path: Path, members: dict[str, str]) -> Path:
    with zipfile.ZipFile(path, "w") as bundle:
        for name, text in members.items():
            bundle.writestr(name, text)
    return path


def test_relative_folder_is_relative_to_the_manifest(manifest_dir: Path, tmp_path: Path) -> None:
    found = resolve_definition("code", manifest_dir, None, tmp_path / "cache")
    assert found == (manifest_dir / "code").resolve()


def test_file_urls_absolute_and_relative(manifest_dir: Path, tmp_path: Path) -> None:
    code = (manifest_dir / "code").resolve()
    assert resolve_definition(code.as_uri(), tmp_path, None, tmp_path / "cache") == code
    assert resolve_definition(f"file://localhost{code}", tmp_path, None, tmp_path / "cache") == code
    assert resolve_definition("file:code", manifest_dir, None, tmp_path / "cache") == code


def test_no_url_means_no_definition(tmp_path: Path) -> None:
    assert resolve_definition(None, tmp_path, None, tmp_path / "cache") is None
    assert resolve_definition("  ", tmp_path, None, tmp_path / "cache") is None


def test_zip_is_extracted_once_into_the_cache(manifest_dir: Path, tmp_path: Path) -> None:
    _zip(manifest_dir / "model.zip", {"train.py": 'print("accuracy=0.25")\n', "lib/util.py": ""})
    cache = tmp_path / "cache"
    found = resolve_definition("model.zip", manifest_dir, None, cache)
    assert found is not None and found.parent == cache
    assert (found / "train.py").is_file() and (found / "lib" / "util.py").is_file()
    (found / "marker").write_text("still here")
    assert resolve_definition("model.zip", manifest_dir, None, cache) == found
    assert (found / "marker").exists()  # not extracted again
    assert [entry for entry in cache.iterdir() if entry.name.startswith(".")] == []


def test_zip_with_one_top_folder_uses_that_folder(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "bundle.zip", {"model/train.py": "", "__MACOSX/model/._train.py": ""})
    found = resolve_definition(archive.as_uri(), tmp_path, None, tmp_path / "cache")
    assert found is not None and found.name == "model" and (found / "train.py").is_file()


def test_zip_members_escaping_the_folder_are_refused(tmp_path: Path) -> None:
    archive = _zip(tmp_path / "evil.zip", {"../escape.py": ""})
    with pytest.raises(TrialError, match="outside its folder"):
        resolve_definition(str(archive), tmp_path, None, tmp_path / "cache")
    assert not (tmp_path / "escape.py").exists()


@pytest.mark.parametrize("url", ["https://ibm-watson-ml.mybluemix.net/v3/ml_assets/training_definitions/5b21", "s3://bucket/model.zip"])
def test_remote_url_is_a_clear_error(url: str, tmp_path: Path) -> None:
    with pytest.raises(TrialError, match="--definition DIR") as caught:
        resolve_definition(url, tmp_path, None, tmp_path / "cache")
    assert url in str(caught.value)


def test_override_folder_wins_over_a_remote_url(manifest_dir: Path, tmp_path: Path) -> None:
    found = resolve_definition("https://example.com/def", tmp_path, manifest_dir / "code", tmp_path / "cache")
    assert found == (manifest_dir / "code").resolve()


def test_missing_override_or_path_and_non_zip_file_are_errors(manifest_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(TrialError, match="no such folder"):
        resolve_definition(None, tmp_path, tmp_path / "nope", tmp_path / "cache")
    with pytest.raises(TrialError, match="does not exist"):
        resolve_definition("missing", manifest_dir, None, tmp_path / "cache")
    with pytest.raises(TrialError, match="neither a folder nor a .zip"):
        resolve_definition("code/train.py", manifest_dir, None, tmp_path / "cache")


def test_a_trial_runs_from_a_zip_definition(tmp_path: Path) -> None:
    import shlex
    import sys

    archive = _zip(tmp_path / "model.zip", {"train.py": 'import json\nprint("accuracy=" + str(json.load(open("config.json"))["x"]))\n'})
    definition = resolve_definition(archive.as_uri(), tmp_path, None, tmp_path / "cache")
    spec = TrialSpec(
        experiment="e", reference="r", number=0, values={"x": 0.125},
        command=f"{shlex.quote(sys.executable)} train.py", definition_dir=definition,
        trial_dir=tmp_path / "trials" / "0", objective="accuracy",
    )
    outcome = run_trial(spec)
    assert (outcome.state, outcome.objective) == (TrialState.COMPLETE, 0.125)
