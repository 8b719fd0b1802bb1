"""Skeleton of the exercise 'training_loop' (minislim.exercises): complete it in the notebook."""


def train_loop(params, batches, loss_fn, optimizer):
    losses = []
    for inputs, targets in batches:
        # TODO: zero the gradients, forward, backward, apply the update, record the loss (a float)
        raise NotImplementedError
    return losses
