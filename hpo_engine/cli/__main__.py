"""``python -m hpo_engine.cli`` runs the ``hpo`` command."""

from hpo_engine.cli import main

if __name__ == "__main__":
    main()
