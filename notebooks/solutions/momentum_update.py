"""Solution of the ``momentum_update`` exercise (notebook 05), TF's form as slim.optimizers.Momentum.

Run it to see the checker's verdict: ``python notebooks/solutions/momentum_update.py``.
"""


def momentum_update(w, g, accum, lr, momentum):
    accum = momentum * accum + g        # a decaying sum of the gradients
    return w - lr * accum, accum


if __name__ == "__main__":
    from minislim.exercises import check

    check(momentum_update, "momentum_update")
