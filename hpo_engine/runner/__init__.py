"""The runner: schedules trials of a manifest, runs them in backends, records them in the store.

Rooms: ``scheduler`` (one experiment: ask the optimizer, launch, record), ``store`` (the SQLite
result store), ``results`` (reading finished experiments), ``trial_state`` (states of a trial),
``backends`` (where trials run: local processes, Ray), ``trials`` (one trial as a process: its
folder, environment, metrics), ``trial_support`` (the folder put on trials' PYTHONPATH:
``emetrics``) and ``storage`` (results to S3, training data from S3, definitions from URLs). It may import the manifest core and the optimizers, never the CLI.
"""
