"""Skeleton of the exercise 'momentum_update' (minislim.exercises): complete it in the notebook."""


def momentum_update(w, g, accum, lr, momentum):
    # TODO: return (new w, new accum)
    raise NotImplementedError
