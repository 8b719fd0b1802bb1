"""Skeleton of the exercise 'adam_update' (minislim.exercises): complete it in the notebook."""


def adam_update(w, g, m, v, t, lr, beta1, beta2, eps):
    # TODO: return (new w, new m, new v)
    raise NotImplementedError
