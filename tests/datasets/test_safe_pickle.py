"""The restricted unpickler: plain data and NumPy arrays load; anything callable is refused."""
import copyreg  # noqa: F401  (named by a refused pickle below)
import os
import pickle

import numpy as np
import pytest

from minislim.datasets import safe_pickle

PROTOCOLS = range(0, pickle.HIGHEST_PROTOCOL + 1)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_plain_data_and_arrays_round_trip(protocol):
    obj = {b"data": np.arange(24, dtype=np.uint8).reshape(2, 12),
           "floats": np.linspace(0, 1, 5, dtype=np.float32),
           "empty": np.zeros((0, 3), np.int64), "fortran": np.asfortranarray(np.eye(3)),
           "labels": [1, 2, np.int64(3)], "nested": ({"a": (1.5, None, True)}, b"", "text"),
           "big": 2 ** 70, "bytes": b"\x00\xff" * 10}
    back = safe_pickle.loads(pickle.dumps(obj, protocol=protocol))
    assert back.keys() == obj.keys()
    for key in ("data", "floats", "empty", "fortran"):
        key = key.encode() if key == "data" else key
        np.testing.assert_array_equal(back[key], obj[key])
        assert back[key].dtype == obj[key].dtype
    assert back["labels"] == [1, 2, 3] and type(back["labels"][2]) is np.int64
    assert back["nested"] == obj["nested"] and back["big"] == 2 ** 70
    assert back["bytes"] == obj["bytes"]


class Shell:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


class Plain:
    """An ordinary class instance: pickled through copyreg / the class itself."""

    def __init__(self):
        self.x = 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_a_command_in_a_reduce_is_refused_and_never_runs(tmp_path, protocol):
    marker = tmp_path / "ran"
    blob = pickle.dumps({"labels": [1, Shell(marker)]}, protocol=protocol)
    with pytest.raises(pickle.UnpicklingError, match=r"refusing to unpickle (posix|nt)\.system"):
        safe_pickle.loads(blob)
    assert not marker.exists()


@pytest.mark.parametrize("obj, name", [
    (Plain(), "Plain"),
    (eval, "eval"),
    (len, "len"),
    (int, "(int|long)"),
    (complex(1, 2), "complex"),
    (np.ma.masked_array([1, 2]), "numpy.ma"),
    (np.array([Plain()], dtype=object), r"numpy\.dtype\('O8'\): object arrays"),
])
def test_anything_but_plain_data_and_arrays_is_refused(obj, name):
    with pytest.raises(pickle.UnpicklingError, match=f"refusing to unpickle .*{name}"):
        safe_pickle.loads(pickle.dumps(obj, protocol=2))


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_sets_and_bytearrays_load_at_every_protocol(protocol):
    obj = [{1, 2}, frozenset({b"a"}), bytearray(b"xy"), bytearray()]
    assert safe_pickle.loads(pickle.dumps(obj, protocol=protocol)) == obj


def test_bytes_of_a_size_is_refused():
    blob = b"\x80\x02c__builtin__\nbytes\nJ\x00\x00\x00\x40\x85R."   # bytes(2**30)
    with pytest.raises(pickle.UnpicklingError, match="refusing bytes"):
        safe_pickle.loads(blob)
    assert safe_pickle.loads(b"\x80\x02c__builtin__\nbytes\n)R.") == b""


def test_persistent_ids_are_refused():
    blob = b"\x80\x02X\x03\x00\x00\x00abcQ."          # BINPERSID
    with pytest.raises(pickle.UnpicklingError, match="persistent"):
        safe_pickle.loads(blob)
