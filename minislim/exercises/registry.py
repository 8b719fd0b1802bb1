"""The exercises by name: :func:`add` files one, :func:`get` and :func:`names` find them.

Each module of exercises (``catalog``, ``layers``, ``updates``, ``value_engine``) adds its
own when it is imported; :func:`minislim.exercises.check` looks an exercise up here by
name. Holding the table in its own module lets the checker look names up without
importing the catalogue, which imports the checker.
"""
from __future__ import annotations

EXERCISES: dict = {}


def add(exercise) -> None:
    """File ``exercise`` (an ``Exercise`` or ``FunctionExercise``) under its name."""
    EXERCISES[exercise.name] = exercise


def names() -> list:
    """The exercise names, easiest first."""
    return list(EXERCISES)


def get(name: str):
    """The exercise called ``name``.

    Raises:
        KeyError: no such exercise (the message lists the names).
    """
    try:
        return EXERCISES[name]
    except KeyError:
        raise KeyError(f"no exercise called {name!r}; the exercises are: {', '.join(EXERCISES)}") from None
