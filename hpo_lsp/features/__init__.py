"""One module per LSP feature; each exposes ``register(server)`` (wired in :mod:`hpo_lsp.setup`)."""
