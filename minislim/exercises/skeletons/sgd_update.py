"""Skeleton of the exercise 'sgd_update' (minislim.exercises): complete it in the notebook."""


def sgd_update(w, g, lr):
    # TODO: return the updated w
    raise NotImplementedError
