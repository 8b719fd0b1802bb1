"""CRC32C: the textbook loop, the NumPy folding path and (where installed) Google's C library
give the same checksums: the standard test vectors, random data of every awkward length,
every input type, continued CRCs."""
import mmap

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from minislim.checkpoint import crc32c as crc

PIECE = crc.PIECE

# CRC32C("123456789") is the check value of every CRC catalogue; the 32-byte strings are
# the iSCSI test vectors of RFC 3720, appendix B.4.
VECTORS = [(b"123456789", 0xE3069283), (bytes(32), 0x8A9136AA), (b"\xff" * 32, 0x62A8AB43),
           (bytes(range(32)), 0x46DD794E), (bytes(range(31, -1, -1)), 0x113FDB5C), (b"", 0)]


def bitwise(data: bytes, crc_in: int = 0) -> int:
    """CRC32C one bit at a time, straight from the definition: the reference for the table."""
    register = crc_in ^ 0xFFFFFFFF
    for byte in data:
        register ^= byte
        for _ in range(8):
            register = (register >> 1) ^ (0x82F63B78 if register & 1 else 0)
    return register ^ 0xFFFFFFFF


def google_or_none():
    return crc.ACCELERATED


@pytest.mark.parametrize("data, expected", VECTORS)
def test_every_path_gives_the_standard_test_vectors(data, expected, monkeypatch):
    assert bitwise(data) == expected
    assert crc.crc32c_python(data) == expected
    assert crc.crc32c_fast(data) == expected
    assert crc.crc32c(data) == expected
    monkeypatch.setattr(crc, "ACCELERATED", None)
    assert crc.crc32c(data) == expected


def test_the_table_loop_matches_the_bitwise_definition(rng):
    data = rng.integers(0, 256, 300, dtype=np.uint8).tobytes()
    assert crc.crc32c_python(data) == bitwise(data)
    assert crc.crc32c_python(data[100:], crc.crc32c_python(data[:100])) == bitwise(data)


def test_the_folding_constants_are_multiples_of_the_polynomial():
    assert crc.divides(crc.BULK) and crc.divides(crc.FINAL)
    k, exponents = crc.BULK
    assert crc.divides((2 * k, tuple(2 * e for e in exponents)))      # squared: still a multiple
    assert crc.divides((k << crc.LEVEL, tuple(e << crc.LEVEL for e in exponents)))
    assert not crc.divides((k, (151, 47, 0)))                             # one exponent off: not
    assert not crc.divides((k + 1, exponents))


@pytest.mark.parametrize("size", [0, 1, 290, 291, 5000, 40145, 40146, 100_003])
def test_folding_shortens_the_data_and_keeps_its_crc(rng, size):
    data = rng.integers(0, 256, size, dtype=np.uint8)
    folded = crc.fold(crc.fold(data.copy(), crc.BULK), crc.FINAL)
    assert folded.size == min(size, crc.FINAL[0])
    # the CRC from a zero register (crc=0xFFFFFFFF undoes the initial inversion) is unchanged
    assert crc.crc32c_python(folded, 0xFFFFFFFF) == crc.crc32c_python(data, 0xFFFFFFFF)


@pytest.mark.parametrize("size", [0, 1, 2, 3, 4, 5, 289, 1023, 1024, 4097, PIECE - 1, PIECE, PIECE + 1, PIECE + 3,
                                  PIECE + 4, 2 * PIECE + 2])
def test_the_fast_path_agrees_with_the_loop_at_every_boundary(rng, size):
    data = rng.integers(0, 256, size, dtype=np.uint8)
    expected = crc.crc32c_python(data)
    assert crc.crc32c_fast(data) == expected
    assert crc.crc32c_fast(data, 0x12345678) == crc.crc32c_python(data, 0x12345678)
    third = size // 3
    assert crc.crc32c_fast(data[third:], crc.crc32c_fast(data[:third])) == expected   # continuing


@settings(max_examples=12, deadline=None)
@given(size=st.one_of(st.integers(0, 3000), st.integers(0, 3 * PIECE + 9)), seed=st.integers(0, 2**32 - 1),
       start=st.integers(0, 2**32 - 1))
def test_the_fast_path_agrees_with_the_loop_on_random_data(size, seed, start):
    data = np.random.default_rng(seed).integers(0, 256, size, dtype=np.uint8).tobytes()
    assert crc.crc32c_fast(data, start) == crc.crc32c_python(data, start)
    if google_or_none() is not None:
        assert crc.crc32c_fast(data, start) == google_or_none().extend(start, data)


def test_the_fast_path_on_a_huge_buffer_agrees_with_the_c_library(rng):
    if google_or_none() is None:
        pytest.skip("google-crc32c (C implementation) is not installed")
    data = rng.integers(0, 256, (16 << 20) + 7, dtype=np.uint8)   # 104 pieces and a head
    assert crc.crc32c_fast(data, 99) == google_or_none().extend(99, data.tobytes())


def test_every_input_type_gives_the_same_crc(rng, tmp_path, monkeypatch):
    monkeypatch.setattr(crc, "ACCELERATED", None)        # the NumPy path, even where the C library is installed
    assert crc.backend() == "numpy"
    data = rng.integers(0, 256, 16 * 1001, dtype=np.uint8)
    expected = crc.crc32c_python(data.tobytes())
    path = tmp_path / "bytes"
    path.write_bytes(data.tobytes())
    with open(path, "rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
        inputs = [data, data.tobytes(), bytearray(data.tobytes()), memoryview(data.tobytes()), mapped,
                  memoryview(mapped)[:], data.view(np.float32), data.view(np.uint32).reshape(4, -1)]
        for value in inputs:
            assert crc.crc32c(value) == crc.crc32c_fast(value) == expected, type(value)
        del inputs, value                                    # release the map's buffers before it closes
    strided = np.arange(5000, dtype=np.int16)[::3]           # not contiguous: its own bytes, in order
    assert crc.crc32c_fast(strided) == crc.crc32c_python(np.ascontiguousarray(strided).tobytes())
    assert (data == np.frombuffer(path.read_bytes(), np.uint8)).all()   # the input is only read


@pytest.mark.parametrize("size", [0, 1, 5, 70001])
def test_the_optional_c_library_gives_the_same_crc_for_every_input_type(rng, size):
    """google-crc32c (the fastcrc extra), where installed, on bytes, memoryviews, read-only
    memory maps' views and writable arrays of any dtype, continuing from a previous CRC."""
    if crc.ACCELERATED is None:
        pytest.skip("google-crc32c (C implementation) is not installed")
    assert crc.backend() == "google-crc32c"
    data = rng.integers(0, 256, size, dtype=np.uint8)
    expected = crc.crc32c_python(data.tobytes())
    floats = np.frombuffer(data.tobytes() + bytes(-size % 4), np.float32)
    for value in (data, data.tobytes(), memoryview(data.tobytes()), bytearray(data.tobytes())):
        assert crc.crc32c(value) == expected
    assert crc.crc32c(floats.copy()) == crc.crc32c_python(floats.tobytes())
    assert crc.crc32c(data[size // 3:], crc.crc32c(data[:size // 3])) == expected


def test_mask_is_tensorflows_rotation_plus_constant():
    assert crc.mask(0) == 0xA282EAD8
    assert crc.mask(0x80000000) == (0x00010000 + 0xA282EAD8) & 0xFFFFFFFF  # rotated right by 15
    for value in (0, 1, 0xDEADBEEF, 0xFFFFFFFF):
        assert crc.unmask(crc.mask(value)) == value
