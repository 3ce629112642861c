"""pytest-lsp harness: the real server (``python -m hpo_lsp``) as a subprocess over stdio,
once per recorded client (VS Code and Neovim capabilities)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from lsp_helpers import FIXTURES, record_diagnostics

CLIENTS = ["visual-studio-code", "neovim"]


@pytest_lsp.fixture(
    params=CLIENTS,
    config=ClientServerConfig(server_command=[sys.executable, "-m", "hpo_lsp"]),
)
async def client(request, lsp_client: LanguageClient, tmp_path: Path):
    record_diagnostics(lsp_client)
    # Settings the client answers to workspace/configuration: a short debounce keeps tests fast.
    lsp_client.set_configuration({"validation": {"debounceMs": 20}, "preview": {"maxPoints": 5}}, section="hpo")
    params = types.InitializeParams(
        capabilities=pytest_lsp.client_capabilities(request.param),
        root_uri=tmp_path.as_uri(),
        workspace_folders=[types.WorkspaceFolder(uri=tmp_path.as_uri(), name="work")],
    )
    result = await lsp_client.initialize_session(params)
    # The position encoding the server chose (UTF-16 unless the client prefers another).
    lsp_client.position_encoding = str(getattr(result.capabilities.position_encoding, "value", result.capabilities.position_encoding) or "utf-16")  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


@pytest.fixture
def seed_typo() -> str:
    return (FIXTURES / "seed-typo.yaml").read_text(encoding="utf-8")
