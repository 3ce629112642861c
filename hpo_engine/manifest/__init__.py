"""The manifest core: from manifest text to problems, a typed manifest and a search space.

Rooms: ``yaml_source`` (text -> values with source spans), ``spans`` and ``problems`` (what
positions and problems are), ``schema`` / ``schema_navigation`` (the JSON Schema and walking it),
``suggest`` ("did you mean"), ``kinds`` and ``search_space`` (hyper-parameter kinds, the space),
``model`` (the typed manifest), ``validation`` (every check, one entry point ``validate_text``).

It imports nothing from the runner, the optimizers or the CLI, and nothing heavy at import
(no sqlite, subprocess, rich or numpy): the language server and ``hpo validate`` start fast.
"""
