"""A restricted unpickler: plain containers, bytes, strings, numbers and NumPy arrays only.

``pickle.load`` runs code: a pickle names a callable (any importable function, such as
``os.system``) and the arguments to call it with, and the unpickler calls it. The python
version of CIFAR-10 is distributed as pickles, so it must be read with an unpickler that
refuses every callable except the few NumPy needs to rebuild an array. Dicts, lists,
tuples, strings, bytes, numbers, booleans and ``None`` have their own opcodes and never
go through :meth:`RestrictedUnpickler.find_class`; everything else does, and is refused
unless it is in :data:`ALLOWED_GLOBALS` (NumPy's array builders, and the constructors
of ``bytes``, ``bytearray``, ``set`` and ``frozenset`` that old protocols call).

The work a file can ask for is bounded too. Each opcode builds at most one object, so
the objects built grow with the file's size; what does not is a *memo reference*: a few
bytes that put an object already built in a second place. Forty lists of two references
each to the previous one make a 2**40-leaf tree out of 3 KB (a "billion laughs"), and
anything that walks it (``np.asarray``, ``hash`` of a tuple) runs for hours. The data
files this module reads never share a container, so a memo reference to a list, tuple,
dict or set is refused; the object that comes back is then a tree no bigger than the
file. The pure-Python unpickler is used because it lets the memo be checked; it reads
a 30 MB CIFAR-10 batch in milliseconds (the pixels are one bytes opcode). NumPy arrays
must come from ``_reconstruct(ndarray, (0,), ...)`` as NumPy pickles them, never from a
shape that allocates (``numpy.ndarray`` itself cannot be called), with exactly the bytes
their shape needs; a dtype's pickled state may say nothing but its byte order, and object,
structured and subarray dtypes are refused.

>>> import io, pickle
>>> import numpy as np
>>> blob = pickle.dumps({b"data": np.arange(3, dtype=np.uint8), b"labels": [1, 2]})
>>> loads(blob)
{b'data': array([0, 1, 2], dtype=uint8), b'labels': [1, 2]}
>>> shared = [0]
>>> for _ in range(40):                # 2**40 leaves in 40 small lists: a "billion laughs"
...     shared = [shared, shared]
>>> loads(pickle.dumps(shared))
Traceback (most recent call last):
...
_pickle.UnpicklingError: refusing a pickle that refers to the same list twice (memo index 40): a shared container can make a small file expand without bound
>>> class Evil:
...     def __reduce__(self):
...         return (print, ("this never runs",))
>>> loads(pickle.dumps(Evil()))
Traceback (most recent call last):
...
_pickle.UnpicklingError: refusing to unpickle builtins.print: only plain data and NumPy arrays are allowed
"""
from __future__ import annotations

import importlib
import io
import pickle
from typing import Any

import numpy as np

# (module, name) pairs a pickle may reference, and where NumPy keeps them today.
# NumPy 1.x pickles name ``numpy.core.*``; NumPy 2.x renamed the package ``numpy._core``.
ALLOWED_GLOBALS = {
    ("numpy", "ndarray"): ("numpy", "ndarray"),
    ("numpy", "dtype"): ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"): ("multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"): ("multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"): ("multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"): ("multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"): ("numeric", "_frombuffer"),
    ("numpy._core.numeric", "_frombuffer"): ("numeric", "_frombuffer"),
    # Python 3 pickles ``bytes`` at protocol < 3 as _codecs.encode(text, "latin1"),
    # and an empty ``bytes`` as bytes() (named __builtin__.bytes at protocol 2).
    ("_codecs", "encode"): ("_codecs", "encode"),
    ("__builtin__", "bytes"): ("safe", "bytes"),
    ("builtins", "bytes"): ("safe", "bytes"),
    # Containers that protocols < 4 (or < 5) rebuild by calling their type.
    ("__builtin__", "bytearray"): ("safe", "bytearray"),
    ("builtins", "bytearray"): ("safe", "bytearray"),
    ("__builtin__", "set"): ("builtins", "set"),
    ("builtins", "set"): ("builtins", "set"),
    ("__builtin__", "frozenset"): ("builtins", "frozenset"),
    ("builtins", "frozenset"): ("builtins", "frozenset"),
}


class _ArrayClass:
    """What a pickle gets for ``numpy.ndarray``: NumPy's pickles pass the class to
    ``_reconstruct`` as an argument; called itself, ``ndarray((10**9,), "u1")`` (35 bytes)
    would allocate a gigabyte, so calling it is refused."""

    def __call__(self, *args, **kwargs):
        raise pickle.UnpicklingError("refusing numpy.ndarray() called directly: an array may only be rebuilt from "
                                     "its data, as NumPy pickles it")


ARRAY_CLASS = _ArrayClass()


def _plain_dtype(spec, align=False, copy=False):
    """``numpy.dtype(spec, align, copy)`` for a type name; refused: object arrays (NumPy's
    ``__setstate__`` of an object array whose list is shorter than its shape crashes the
    interpreter) and structured or subarray dtypes (CIFAR-10 has none)."""
    if isinstance(spec, bytes):  # a Python 2 pickle's str, read as bytes
        spec = spec.decode("latin1")
    if not isinstance(spec, str):
        raise pickle.UnpicklingError(f"refusing to unpickle numpy.dtype({spec!r:.40}): only a type name is allowed")
    dtype = np.dtype(spec, align, copy)
    if dtype.hasobject:
        raise pickle.UnpicklingError(f"refusing to unpickle numpy.dtype({spec!r}): object arrays (Python objects) "
                                     "are not plain data")
    if dtype.fields is not None or dtype.subdtype is not None:
        raise pickle.UnpicklingError(f"refusing to unpickle numpy.dtype({spec!r}): only plain (not structured "
                                     "or subarray) dtypes are allowed")
    return dtype


def _check_array_state(array: np.ndarray, state) -> None:
    """An array's pickled state ``(version, shape, dtype, fortran, data)`` must hold exactly
    the bytes its shape needs (checked here, before NumPy sizes anything)."""
    if not (isinstance(state, tuple) and len(state) == 5 and isinstance(state[1], tuple)
            and all(isinstance(n, int) and n >= 0 for n in state[1]) and isinstance(state[2], np.dtype)
            and isinstance(state[4], (bytes, bytearray))):
        raise pickle.UnpicklingError(f"refusing the array state {state!r:.80}: not (version, shape, dtype, "
                                     "fortran order, bytes)")
    shape, dtype, data = state[1], state[2], state[4]
    needed = dtype.itemsize
    for n in shape:
        needed *= n
    if needed != len(data):
        raise pickle.UnpicklingError(f"refusing the array state: shape {shape} of {dtype} needs {needed} bytes, the "
                                     f"pickle holds {len(data)}")


def _from_data(kind):
    """``kind(...)`` for data only: ``bytes(10**12)`` (a size, not data) is refused."""
    def build(*args):
        if args and not isinstance(args[0], (bytes, bytearray, str, list, tuple)):
            raise pickle.UnpicklingError(
                f"refusing {kind.__name__}() of a {type(args[0]).__name__}")
        return kind(*args)
    return build


def _numpy_core(submodule: str):
    """Import ``numpy._core.<submodule>`` (NumPy 2) or ``numpy.core.<submodule>`` (NumPy 1)."""
    try:
        return importlib.import_module(f"numpy._core.{submodule}")
    except ImportError:
        return importlib.import_module(f"numpy.core.{submodule}")


def _empty_array(subtype, shape, dtype):
    """NumPy's ``_reconstruct``, for the empty array its pickles start from: no allocation."""
    if subtype not in (ARRAY_CLASS, np.ndarray) or not isinstance(shape, tuple) or \
            not all(isinstance(n, int) for n in shape) or 0 not in shape:
        raise pickle.UnpicklingError("refusing _reconstruct of anything but an empty ndarray")
    return _numpy_core("multiarray")._reconstruct(np.ndarray, shape, dtype)


def _resolve(where: str, name: str):
    if where == "multiarray" and name == "_reconstruct":
        return _empty_array
    if where == "numpy":
        return ARRAY_CLASS if name == "ndarray" else _plain_dtype
    if where == "safe":
        return _from_data(bytes if name == "bytes" else bytearray)
    if where in ("_codecs", "builtins"):
        return getattr(importlib.import_module(where), name)
    return getattr(_numpy_core(where), name)


def _check_dtype_state(dtype: np.dtype, state) -> None:
    """Refuse a dtype state (a BUILD on a ``numpy.dtype``) that says more than the byte order.

    NumPy pickles a dtype as ``dtype(spec, False, True)``, a fresh copy, then applies the
    state ``(version, byte order, subarray, names, fields, item size, alignment, flags[,
    metadata])`` to it in place, trusting it: flags that say a ``uint8`` holds Python
    objects make NumPy take the pixels for object pointers. So the state must equal the
    fresh dtype's own, except for the byte order (and a datetime's unit, in the metadata):
    structured and subarray dtypes, which CIFAR-10 never uses, are refused with it.
    """
    own = dtype.__reduce__()[2]
    if not isinstance(state, tuple) or len(state) != len(own) or state[0] not in (3, 4):
        raise pickle.UnpicklingError(f"refusing the dtype state {state!r:.80} for {dtype}: not a dtype's state")
    order = state[1].decode("latin1") if isinstance(state[1], bytes) else state[1]  # bytes: Python 2's str
    order_ok = order in (("|",) if own[1] == "|" else ("<", ">", "="))
    same = all(mine == theirs for index, (mine, theirs) in enumerate(zip(own, state))
               if index not in (0, 1) and not (index == 8 and dtype.kind in "Mm"))
    if not (order_ok and same):
        raise pickle.UnpicklingError(f"refusing the dtype state {state!r:.80} for {dtype}: only a byte order may "
                                     f"differ from its own state {own!r:.80}")


CONTAINERS = (list, tuple, dict, set, frozenset)


class _UnsharedMemo(dict):
    """The unpickler's memo: a second reference to a container is refused."""

    def __getitem__(self, index):
        value = super().__getitem__(index)
        if isinstance(value, CONTAINERS):
            raise pickle.UnpicklingError(
                f"refusing a pickle that refers to the same {type(value).__name__} twice (memo index {index}): "
                "a shared container can make a small file expand without bound")
        return value


class RestrictedUnpickler(pickle._Unpickler):
    """An unpickler whose ``find_class`` only returns the callables of :data:`ALLOWED_GLOBALS`,
    and whose memo refuses a second reference to a container.

    Strings written by Python 2 are returned as ``bytes`` (``encoding="bytes"``), which is
    how the official CIFAR-10 python files must be read: their keys are ``b"data"``,
    ``b"labels"``.
    """

    def __init__(self, file, *, encoding: str = "bytes"):
        super().__init__(file, encoding=encoding)
        self.memo = _UnsharedMemo()

    def find_class(self, module: str, name: str):
        target = ALLOWED_GLOBALS.get((module, name))
        if target is None:
            raise pickle.UnpicklingError(
                f"refusing to unpickle {module}.{name}: only plain data and NumPy arrays "
                "are allowed")
        return _resolve(*target)

    def persistent_load(self, pid):
        raise pickle.UnpicklingError("refusing to unpickle a persistent id")

    def load_build(self):
        """BUILD (``obj.__setstate__(state)``): a dtype's or an array's state is checked first."""
        if len(self.stack) >= 2 and isinstance(self.stack[-2], np.dtype):
            _check_dtype_state(self.stack[-2], self.stack[-1])
        elif len(self.stack) >= 2 and isinstance(self.stack[-2], np.ndarray):
            _check_array_state(self.stack[-2], self.stack[-1])
        super().load_build()

    dispatch = {**pickle._Unpickler.dispatch, pickle.BUILD[0]: load_build}


def load(file) -> Any:
    """Unpickle one object from an open binary file with :class:`RestrictedUnpickler`.

    Raises:
        pickle.UnpicklingError: the pickle references anything but plain data and arrays.
    """
    # from memory: a length field in the pickle (BINBYTES of 2**32 - 1) then asks for no more
    # than the bytes that are there, where a real file's read(n) would allocate n bytes first
    return RestrictedUnpickler(io.BytesIO(file.read())).load()


def loads(data: bytes) -> Any:
    """Unpickle one object from ``data`` with :class:`RestrictedUnpickler`."""
    return load(io.BytesIO(data))
