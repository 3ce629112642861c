"""Digits: a small real training program in the style of IBM's WML HPO samples.

Reads its hyper-parameters from ``config.json`` (``learning_rate``, ``hidden_units``,
``activation``), trains a one-hidden-layer neural network (numpy, mini-batch SGD with
momentum) on the 8x8 digits bundled with scikit-learn (no download), and records the
accuracy and loss of every epoch with ``EMetrics`` exactly as the service's samples did.
``hpo run`` reads the TEST group (``$RESULT_DIR/val_dict_list.json``, written when
``EMetrics`` closes) and takes the last recorded ``accuracy`` as the trial's objective.

Run by hand:
    echo '{"learning_rate": 0.01, "hidden_units": 64, "activation": "relu"}' > config.json
    SUBID=0 RESULT_DIR=. LOG_DIR=. PYTHONPATH=<hpo_engine/trial_support> python3 train.py
"""

import gzip
import importlib.util
import json
import os
import time
from pathlib import Path

for _threads in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")  # small matrices: one thread per trial is fastest

import numpy as np
from emetrics import EMetrics

EPOCHS = int(os.environ.get("DIGITS_EPOCHS", "20"))
#: Seconds of pause after each epoch (default 0): stands in for a larger model's epoch in
#: benchmarks/early_stopping.py, where stopping a trial early must save real time.
EPOCH_PAUSE = float(os.environ.get("DIGITS_EPOCH_PAUSE", "0"))
BATCH_SIZE = 32
MOMENTUM = 0.9


def load_digits():
    """scikit-learn's bundled digits (1797 images, 64 pixels, 10 classes), read without importing sklearn."""
    spec = importlib.util.find_spec("sklearn")
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data" / "digits.csv.gz"
        if path.is_file():
            with gzip.open(path, "rt") as handle:
                data = np.loadtxt(handle, delimiter=",")
            return data[:, :-1], data[:, -1].astype(int)
    from sklearn.datasets import load_digits as sklearn_load_digits

    digits = sklearn_load_digits()
    return digits.data, digits.target


ACTIVATIONS = {
    "relu": (lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype)),
    "tanh": (np.tanh, lambda z, a: 1.0 - a * a),
    "sigmoid": (lambda z: 1.0 / (1.0 + np.exp(-z)), lambda z, a: a * (1.0 - a)),
}


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def evaluate(params, activation, x, y):
    w1, b1, w2, b2 = params
    probabilities = softmax(activation(x @ w1 + b1) @ w2 + b2)
    loss = float(-np.mean(np.log(probabilities[np.arange(len(y)), y] + 1e-12)))
    accuracy = float(np.mean(probabilities.argmax(axis=1) == y))
    return accuracy, loss


hyper_params = json.loads(open("config.json").read())
learning_rate = float(hyper_params["learning_rate"])
hidden_units = int(hyper_params["hidden_units"])
activation_name = str(hyper_params["activation"])
activation, activation_grad = ACTIVATIONS[activation_name]

x, y = load_digits()
rng = np.random.default_rng(0)
order = rng.permutation(len(x))
split = int(0.7 * len(x))
train, test = order[:split], order[split:]
mean, std = x[train].mean(axis=0), x[train].std(axis=0) + 1e-8
x = (x - mean) / std
x_train, y_train, x_test, y_test = x[train], y[train], x[test], y[test]

scale = np.sqrt(2.0 / 64) if activation_name == "relu" else np.sqrt(1.0 / 64)
params = [
    rng.normal(0.0, scale, (64, hidden_units)),
    np.zeros(hidden_units),
    rng.normal(0.0, np.sqrt(1.0 / hidden_units), (hidden_units, 10)),
    np.zeros(10),
]
velocity = [np.zeros_like(p) for p in params]
one_hot = np.eye(10)

with EMetrics.open(os.environ["SUBID"]) as em:
    for epoch in range(EPOCHS):
        shuffled = rng.permutation(len(x_train))
        for start in range(0, len(x_train), BATCH_SIZE):
            batch = shuffled[start:start + BATCH_SIZE]
            xb, yb = x_train[batch], y_train[batch]
            w1, b1, w2, b2 = params
            z1 = xb @ w1 + b1
            a1 = activation(z1)
            delta2 = (softmax(a1 @ w2 + b2) - one_hot[yb]) / len(yb)
            delta1 = (delta2 @ w2.T) * activation_grad(z1, a1)
            grads = [xb.T @ delta1, delta1.sum(axis=0), a1.T @ delta2, delta2.sum(axis=0)]
            for p, v, g in zip(params, velocity, grads):
                v *= MOMENTUM
                v -= learning_rate * g
                p += v
        train_accuracy, train_loss = evaluate(params, activation, x_train, y_train)
        test_accuracy, test_loss = evaluate(params, activation, x_test, y_test)
        em.record(EMetrics.TRAIN_GROUP, epoch, {"accuracy": train_accuracy, "loss": train_loss})
        em.record(EMetrics.TEST_GROUP, epoch, {"accuracy": test_accuracy, "loss": test_loss})
        print(f"epoch {epoch}: train accuracy {train_accuracy:.4f} loss {train_loss:.4f}, "
              f"test accuracy {test_accuracy:.4f} loss {test_loss:.4f}", flush=True)
        time.sleep(EPOCH_PAUSE)
