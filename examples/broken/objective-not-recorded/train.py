"""Records ``accuracy`` per epoch with EMetrics; the manifest asks for ``val_accuracy``."""

from emetrics import EMetrics

with EMetrics.open() as em:
    for epoch in range(1, 6):
        em.record(EMetrics.TEST_GROUP, epoch, {"accuracy": 0.5 + epoch / 20})
