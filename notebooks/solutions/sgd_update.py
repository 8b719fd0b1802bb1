"""Solution of the ``sgd_update`` exercise (notebook 05).

Run it to see the checker's verdict: ``python notebooks/solutions/sgd_update.py``.
"""


def sgd_update(w, g, lr):
    return w - lr * g


if __name__ == "__main__":
    from minislim.exercises import check

    check(sgd_update, "sgd_update")
