"""Skeleton of the exercise 'value_training_loop' (minislim.exercises): complete it in the notebook."""


def train(params, loss_fn, steps, lr):
    losses = []
    for step in range(steps):
        # TODO: zero the gradients, forward, backward, update, record the loss (a number)
        raise NotImplementedError
    return losses
