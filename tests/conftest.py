"""Settings for every test: hypothesis runs derandomized and without its example database on CI.

Locally hypothesis draws new examples each run (and remembers failures in ``.hypothesis/``);
with ``CI`` set (``.ci/run``) the profile ``ci`` makes every run draw the same examples, so a
green suite stays green and a failure is reproducible from the log alone.
"""

from __future__ import annotations

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev"))
