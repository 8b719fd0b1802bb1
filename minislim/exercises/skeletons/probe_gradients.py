"""Skeleton of the exercise 'probe_gradients' (minislim.exercises): complete it in the notebook."""
import numpy as np


def probe_gradients(features, labels, w, b):
    logits = features @ w + b  # noqa: F841 (yours to use) [N, C]
    one_hot = np.eye(w.shape[1])[labels]  # noqa: F841 (yours to use)
    # TODO: return (dL/dw, dL/db) of the mean softmax cross-entropy
    raise NotImplementedError
