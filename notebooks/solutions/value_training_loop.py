"""Solution of the ``value_training_loop`` exercise (notebook 01).

Run it to see the checker's verdict: ``python notebooks/solutions/value_training_loop.py``.
"""


def train(params, loss_fn, steps, lr):
    losses = []
    for step in range(steps):
        for p in params:
            p.grad = 0.0                 # zero_grad: backward adds to .grad
        loss = loss_fn()
        loss.backward()
        for p in params:
            p.data -= lr * p.grad        # downhill
        losses.append(loss.data)
    return losses


if __name__ == "__main__":
    from minislim.exercises import check

    check(train, "value_training_loop")
