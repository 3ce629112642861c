"""hpo-lsp: a language server for HPO experiment manifests (pygls 2).

Start it with ``hpo-lsp`` or ``python -m hpo_lsp`` (stdio; ``--tcp HOST:PORT``).
:func:`hpo_lsp.setup.create_server` builds the server with every feature wired.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
