"""Solution of the ``streaming_accuracy`` exercise (notebook 06): two running sums.

Run it to see the checker's verdict: ``python notebooks/solutions/streaming_accuracy.py``.
"""
import numpy as np


class StreamingAccuracy:
    def __init__(self):
        self.correct, self.seen = 0, 0

    def update(self, logits, labels):
        self.correct += int(np.sum(np.argmax(logits, axis=1) == labels))
        self.seen += len(labels)            # a sum of examples, not of batch accuracies

    def result(self):
        return self.correct / self.seen


if __name__ == "__main__":
    from minislim.exercises import check

    check(StreamingAccuracy, "streaming_accuracy")
