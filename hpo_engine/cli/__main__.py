"""``python -m hpo_engine.cli`` runs the ``hpo`` command."""

from . import main

if __name__ == "__main__":
    main()
