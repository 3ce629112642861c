"""training_definition_url from http(s):// (a real http.server on 127.0.0.1) and s3:// (moto), safely unpacked."""

from __future__ import annotations

import http.server
import io
import stat
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hpo_engine.errors import HpoError, StorageError, TrialError
from hpo_engine.runner.storage.config import S3Connection
from hpo_engine.runner.storage.definitions import fetch_definition, is_wml_asset_url
from hpo_engine.runner.trials.definition import resolve_definition
from tests.engine.storage.conftest import ACCESS_KEY, SECRET_KEY, S3_PROGRAM, hpo, write_manifest


def _zip_bytes(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
    return buffer.getvalue()


class _Files(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files`` (path -> bytes) with an ETag; counts full answers in ``server.sent``."""

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        files = self.server.files  # type: ignore[attr-defined]
        if self.path not in files:
            self.send_error(404)
            return
        data = files[self.path]
        etag = f'"{hash(data) & 0xFFFFFFFF:x}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.server.sent += 1  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    server.files = {}  # type: ignore[attr-defined]
    server.sent = 0  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _url(server, path: str) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}{path}"


def test_http_definition_is_fetched_once_and_revalidated(http_server, tmp_path: Path) -> None:
    http_server.files["/defs/train.zip"] = _zip_bytes({"train/train.py": b"print('hi')\n"})
    fetch = lambda url: fetch_definition(url, tmp_path / "cache")  # noqa: E731
    url = _url(http_server, "/defs/train.zip")
    folder = resolve_definition(url, tmp_path, None, tmp_path / "extracted", fetch=fetch)
    assert (folder / "train.py").read_text() == "print('hi')\n"
    again = resolve_definition(url, tmp_path, None, tmp_path / "extracted", fetch=fetch)
    assert again == folder and http_server.sent == 1  # 304: the cached archive is used
    http_server.files["/defs/train.zip"] = _zip_bytes({"train/train.py": b"print('changed')\n"})
    changed = resolve_definition(url, tmp_path, None, tmp_path / "extracted", fetch=fetch)
    assert (changed / "train.py").read_text() == "print('changed')\n" and http_server.sent == 2
    # content-keyed: one archive per distinct content
    assert len(list((tmp_path / "cache" / "archives").glob("*.zip"))) == 2


def test_http_errors_are_one_clear_line(http_server, tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="answered 404.*--definition DIR"):
        fetch_definition(_url(http_server, "/missing.zip"), tmp_path)
    http_server.files["/not-a-zip"] = b"hello"
    with pytest.raises(TrialError, match="not a .zip archive"):
        resolve_definition(_url(http_server, "/not-a-zip"), tmp_path, None, tmp_path / "x", fetch=lambda u: fetch_definition(u, tmp_path))


def test_wml_asset_urls_are_refused_with_a_hint(tmp_path: Path) -> None:
    url = "https://ibm-watson-ml.mybluemix.net/v3/ml_assets/training_definitions/7c2f"
    assert is_wml_asset_url(url) and not is_wml_asset_url("http://10.0.0.5/defs/train.zip")
    with pytest.raises(StorageError, match="cannot fetch.*--definition DIR"):
        fetch_definition(url, tmp_path)


def _symlink_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        info = zipfile.ZipInfo("code/link")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        bundle.writestr(info, "/etc/passwd")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("archive", "why"),
    [
        (_zip_bytes({"../evil.py": b"x"}), "outside its folder"),
        (_zip_bytes({"/abs/evil.py": b"x"}), "outside its folder"),
        (_zip_bytes({"ok/../../evil.py": b"x"}), "outside its folder"),
        (_zip_bytes({"C:/evil.py": b"x"}), "outside its folder"),
        (_symlink_zip(), "symbolic link"),
    ],
)
def test_hostile_members_are_refused(http_server, tmp_path: Path, archive: bytes, why: str) -> None:
    http_server.files["/hostile.zip"] = archive
    with pytest.raises(TrialError, match=why):
        resolve_definition(_url(http_server, "/hostile.zip"), tmp_path, None, tmp_path / "x", fetch=lambda u: fetch_definition(u, tmp_path / "cache"))
    assert not list(tmp_path.rglob("evil.py")) and not list(tmp_path.rglob("link"))


def test_too_large_an_archive_is_refused(http_server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hpo_engine.runner.storage import definitions
    from hpo_engine.runner.trials import definition

    http_server.files["/big.zip"] = _zip_bytes({"big.bin": b"0" * 5000})
    monkeypatch.setattr(definition, "MAX_UNPACKED_BYTES", 4000)
    with pytest.raises(TrialError, match="unpacked; refused"):
        resolve_definition(_url(http_server, "/big.zip"), tmp_path, None, tmp_path / "x", fetch=lambda u: fetch_definition(u, tmp_path / "c1"))
    monkeypatch.setattr(definitions, "MAX_ARCHIVE_BYTES", 100)
    with pytest.raises(StorageError, match="larger than"):
        fetch_definition(_url(http_server, "/big.zip"), tmp_path / "c2")


def test_s3_definition_runs_with_the_data_connection(tmp_path: Path, s3_server, s3_env) -> None:
    client = s3_server.client()
    client.create_bucket(Bucket="results")
    client.create_bucket(Bucket="code")
    client.put_object(Bucket="code", Key="defs/train.zip", Body=_zip_bytes({"train.py": S3_PROGRAM.encode()}))
    manifest = write_manifest(tmp_path, s3_server.url, steps=2, definition_url="s3://code/defs/train.zip")
    done = hpo("run", str(manifest), "--results", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr + done.stdout
    assert len(list((tmp_path / "results").rglob("val_dict_list.json"))) == 2
    archive = fetch_definition("s3://code/defs/train.zip", tmp_path / "cache" / "definitions", S3Connection(s3_server.url, ACCESS_KEY, SECRET_KEY))
    assert archive is not None and archive.parent.name == "archives"


def test_http_definition_end_to_end(http_server, tmp_path: Path, s3_server, s3_env) -> None:
    s3_server.client().create_bucket(Bucket="results")
    http_server.files["/train.zip"] = _zip_bytes({"train.py": S3_PROGRAM.encode()})
    manifest = write_manifest(tmp_path, s3_server.url, steps=1, definition_url=_url(http_server, "/train.zip"))
    done = hpo("run", str(manifest), "--results", str(tmp_path / "results"))
    assert done.returncode == 0, done.stderr
    missing = write_manifest(tmp_path, s3_server.url, steps=1, definition_url=_url(http_server, "/gone.zip"))
    failed = hpo("run", str(missing), "--results", str(tmp_path / "other"))
    assert failed.returncode == 1 and "answered 404" in failed.stderr and "Traceback" not in failed.stderr
    assert isinstance(StorageError("x"), HpoError)
