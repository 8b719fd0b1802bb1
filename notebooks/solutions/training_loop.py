"""Solution of the ``training_loop`` exercise (notebook 05).

Run it to see the checker's verdict: ``python notebooks/solutions/training_loop.py``.
"""


def train_loop(params, batches, loss_fn, optimizer):
    losses = []
    for inputs, targets in batches:
        for p in params:
            p.zero_grad()                        # backward adds to .grad: start from nothing
        loss = loss_fn(inputs, targets)
        loss.backward()
        optimizer.apply_gradients([(p.grad, p) for p in params])
        losses.append(float(loss.data))
    return losses


if __name__ == "__main__":
    from minislim.exercises import check

    check(train_loop, "training_loop")
