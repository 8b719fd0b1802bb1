"""Solution of the ``saliency_map`` exercise (notebook 10): one backward pass to the pixels.

Run it to see the checker's verdict: ``python notebooks/solutions/saliency_map.py``.
"""
import numpy as np

import minislim as slim


def saliency_map(score_fn, images):
    x = slim.tensor(images, requires_grad=True)
    scores = score_fn(x)
    predicted = scores.data.argmax(axis=1)
    mask = np.eye(scores.shape[1])[predicted]               # one-hot of each image's prediction
    slim.nn.sum(scores * slim.tensor(mask)).backward()
    return np.abs(x.grad).max(axis=-1)


if __name__ == "__main__":
    from minislim.exercises import check

    check(saliency_map, "saliency_map")
