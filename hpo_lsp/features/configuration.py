"""Settings: asked for with ``workspace/configuration`` (section ``hpo``) after
``initialized`` and on ``workspace/didChangeConfiguration``.

A client without ``workspace.configuration`` may send the same object as
``initializationOptions`` (``{"hpo": {...}}`` or the section itself) or in
``didChangeConfiguration``'s ``settings``. Bad values fall back to their defaults
with a ``window/showMessage`` warning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from lsprotocol import types

from ..convert import plain_json
from ..settings import SECTION, parse_settings

if TYPE_CHECKING:
    from ..server import HpoLanguageServer

__all__ = ["register", "apply_settings", "pull_settings"]


def apply_settings(server: "HpoLanguageServer", data: Any) -> None:
    """Parse the ``hpo`` section ``data`` into ``server.settings``, warning about bad values."""
    settings, messages = parse_settings(plain_json(data))
    server.settings = settings
    for message in messages:
        server.show(message, types.MessageType.Warning)


async def pull_settings(server: "HpoLanguageServer") -> None:
    """Ask the client for the ``hpo`` section (when it can answer)."""
    if not server.client_supports("workspace.configuration"):
        return
    try:
        result = await server.workspace_configuration_async(types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)]))
    except Exception as error:  # the client refused or does not implement it
        server.log(f"workspace/configuration failed: {error}", types.MessageType.Warning)
        return
    apply_settings(server, result[0] if result else None)


def _section(data: Any) -> Any:
    if isinstance(data, Mapping) and SECTION in data:
        return data[SECTION]
    return data


def register(server: "HpoLanguageServer") -> None:
    @server.handle(types.INITIALIZE)
    def initialize(server: "HpoLanguageServer", params: types.InitializeParams) -> None:
        options = plain_json(params.initialization_options)
        if isinstance(options, Mapping) and options:
            apply_settings(server, _section(options))

    @server.handle(types.INITIALIZED)
    async def initialized(server: "HpoLanguageServer", params: types.InitializedParams) -> None:
        try:
            await pull_settings(server)
        finally:
            server.settings_ready.set()

    @server.handle(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
    async def did_change_configuration(server: "HpoLanguageServer", params: types.DidChangeConfigurationParams) -> None:
        if server.client_supports("workspace.configuration"):
            await pull_settings(server)
        elif isinstance(plain_json(params.settings), Mapping):
            apply_settings(server, _section(plain_json(params.settings)))
