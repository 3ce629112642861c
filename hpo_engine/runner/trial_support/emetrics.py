"""``emetrics``: the metrics logger IBM Watson ML's training programs import.

Training programs written for the original HPO service do::

    from emetrics import EMetrics

    with EMetrics.open(os.environ["SUBID"]) as em:
        em.record(EMetrics.TEST_GROUP, epoch, {"accuracy": acc, "loss": loss})

This folder is put first on the trial's ``PYTHONPATH`` so that import works
unchanged. The module reproduces the original's behaviour and file formats:

* :meth:`EMetrics.open` appends to ``evaluation-metrics.txt`` in ``$LOG_DIR``
  (else ``$JOB_STATE_DIR/logs``, else ``/tmp``), inside a ``<subId>`` sub-folder
  when a ``subId`` is given (``SUBID`` is the 0-based trial number, as a string).
* :meth:`EMetrics.record` appends one JSON line per call::

      {"meta": {"training_id": ..., "time": <ms since the epoch>, "rindex": 1, "subid": "<subId>"},
       "grouplabel": group, "etimes": {"iteration": ENC, "time_stamp": ENC},
       "values": {name: ENC}}

  where ENC of an int is ``{"type": 2, "value": "<str>"}``, of a float
  ``{"type": 3, "value": "<str>"}``, of anything else ``{"value": "<str>"}``;
  ``subid`` is present only when the ``subId`` is truthy.
* Records of the TEST group are remembered as ``{"steps": iteration, **values}`` and
  :meth:`EMetrics.close` writes that list to ``$RESULT_DIR/val_dict_list.json``
  (``/tmp`` when ``RESULT_DIR`` is unset), only when something was remembered.

One deliberate difference: numpy scalars and other values that ``json`` cannot
write are converted (``.item()``, else ``str``) when ``val_dict_list.json`` is
written, where the original raised ``TypeError``.

Standard library only; this module must not import ``hpo_engine``.
"""

import json
import os
import time

__all__ = ["EMetrics"]

_INT_TYPE = 2
_FLOAT_TYPE = 3
_METRICS_FILE = "evaluation-metrics.txt"
_RESULTS_FILE = "val_dict_list.json"


def _plain_json(value):
    """``json.dumps`` fallback for values the original could not write (numpy scalars...)."""
    item = getattr(value, "item", None)
    if callable(item):
        try:
            return item()
        except Exception:  # noqa: BLE001 - any failure falls back to the text form
            pass
    tolist = getattr(value, "tolist", None)
    if callable(tolist):
        try:
            return tolist()
        except Exception:  # noqa: BLE001
            pass
    return str(value)


class EMetrics(object):
    """Writes a training program's metrics where the HPO service reads them."""

    TEST_GROUP = "test"
    TRAIN_GROUP = "train"

    def __init__(self, subId, f):
        self.trainingId = os.environ.get("TRAINING_ID", "")
        self.rIndex = 1
        self.subId = subId
        self.f = f
        self.test_history = []

    def __enter__(self):
        return self

    def __exit__(self, type, value, tb):
        self.close()

    @staticmethod
    def open(subId=None):
        """Open ``evaluation-metrics.txt`` for appending; ``subId`` is usually ``os.environ["SUBID"]``."""
        if "LOG_DIR" in os.environ:
            folder = os.environ["LOG_DIR"]
        elif "JOB_STATE_DIR" in os.environ:
            folder = os.path.join(os.environ["JOB_STATE_DIR"], "logs")
        else:
            folder = "/tmp"
        if subId is not None:
            folder = os.path.join(folder, str(subId))
        os.makedirs(folder, exist_ok=True)
        f = open(os.path.join(folder, _METRICS_FILE), "a")
        return EMetrics(subId, f)

    def encode(self, value):
        """The service's typed value: type 2 for int, 3 for float, no type otherwise."""
        if isinstance(value, int):
            return {"type": _INT_TYPE, "value": str(value)}
        if isinstance(value, float):
            return {"type": _FLOAT_TYPE, "value": str(value)}
        return {"value": str(value)}

    def record(self, group, iteration, values):
        """Append one line for ``group`` (TEST_GROUP or TRAIN_GROUP) at ``iteration``."""
        if group == EMetrics.TEST_GROUP:
            remembered = {"steps": iteration}
            remembered.update(values)
            self.test_history.append(remembered)
        now = time.time()
        # "%s" (seconds since the epoch) after the dot, as the original's strftime wrote it on Linux.
        time_stamp = time.strftime("%Y-%m-%dT%H:%M:%S.", time.localtime(now)) + str(int(now))
        line = {
            "meta": {
                "training_id": self.trainingId,
                "time": int(now * 1000),
                "rindex": self.rIndex,
            },
            "grouplabel": group,
            "etimes": {
                "iteration": self.encode(iteration),
                "time_stamp": self.encode(time_stamp),
            },
            "values": {name: self.encode(value) for name, value in values.items()},
        }
        if self.subId:
            line["meta"]["subid"] = str(self.subId)
        if self.f:
            self.f.write(json.dumps(line) + "\n")
            self.f.flush()

    def close(self):
        """Close the metrics file and write the TEST records to ``$RESULT_DIR/val_dict_list.json``."""
        if self.f:
            self.f.close()
        folder = os.environ.get("RESULT_DIR", "/tmp")
        if self.test_history:
            with open(os.path.join(folder, _RESULTS_FILE), "w") as out:
                out.write(json.dumps(self.test_history, default=_plain_json))


if __name__ == "__main__":
    with EMetrics.open("1") as metrics:
        metrics.record(EMetrics.TEST_GROUP, 1, {"accuracy": 0.6})
        metrics.record(EMetrics.TEST_GROUP, 2, {"accuracy": 0.5})
        metrics.record(EMetrics.TEST_GROUP, 3, {"accuracy": 0.9})
