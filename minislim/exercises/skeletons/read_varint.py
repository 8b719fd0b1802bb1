"""Skeleton of the exercise 'read_varint' (minislim.exercises): complete it in the notebook."""


def read_varint(data, position):
    value, shift = 0, 0  # noqa: F841 (yours to use)
    # TODO: read bytes from data[position] on; return (value, the position after the varint)
    raise NotImplementedError
