"""CRC32C (Castagnoli), table-driven, in Python and NumPy: the checksum of TensorFlow's files.

TensorFlow checks every block of a checkpoint's index and every tensor's bytes with
CRC32C, the 32-bit cyclic redundancy check with the (reflected) polynomial ``0x82F63B78``,
initial register ``0xFFFFFFFF`` and a final inversion. It stores the checksum *masked*
(:func:`mask`): rotated right by 15 bits plus a constant, so that the CRC of a string that
itself contains CRCs does not degenerate.

Two ways to compute it, with the same answer:

* :func:`crc32c_python`: the textbook loop, one table lookup per byte (``TABLE[0]``).
* :func:`crc32c`: for large buffers, NumPy. A CRC is linear over GF(2), so the buffer is
  cut into ``LANES`` equal lanes, all lanes are run side by side four bytes at a time
  ("slicing by 4": four tables, one per byte of a 32-bit word), and the lanes' results
  are merged pairwise: ``crc(A + B) = shift(crc(A), len(B)) ^ crc(B)``, where ``shift`` is
  the linear map "run the register through ``len(B)`` zero bytes", itself table-driven.
  Zero bytes *in front of* data do not change a register that starts at 0, which is how
  a buffer is padded to fill the lanes.

Both are far slower than reading the bytes from disk (the NumPy path runs at a few hundred
MB/s: four table lookups per four bytes). When Google's C library is installed
(``pip install -e ".[fastcrc]"``: the ``google-crc32c`` package, which uses the CPU's CRC32
instruction), :func:`crc32c` hands large buffers to it instead, and the checks cost little
next to the reading. Either way every checksum is computed and checked; :func:`backend`
says which path is in use.

>>> hex(crc32c(b"123456789"))      # the standard check value
'0xe3069283'
>>> crc32c(b"hello, world") == crc32c_python(b"hello, world")
True
>>> unmask(mask(0x12345678)) == 0x12345678
True
"""
from __future__ import annotations

import numpy as np

POLYNOMIAL = 0x82F63B78  # Castagnoli, bit-reversed
MASK_DELTA = 0xA282EAD8
LANES = 65536             # lanes run side by side in the NumPy path
PIECE = 1 << 24           # bytes per piece: bounds the extra memory the NumPy path needs
_SMALL = 1 << 14          # below this many bytes the plain loop is faster


def _accelerated():
    """Google's CRC32C C library (the optional ``google-crc32c`` package), or None.

    Its pure-Python fallback (``implementation == "python"``) is slower than the NumPy path
    here, so only the compiled one is used.
    """
    try:
        import google_crc32c
    except ImportError:
        return None
    return google_crc32c if getattr(google_crc32c, "implementation", None) == "c" else None


ACCELERATED = _accelerated()


def backend() -> str:
    """Which path :func:`crc32c` takes for large buffers: ``"google-crc32c"`` or ``"numpy"``."""
    return "google-crc32c" if ACCELERATED is not None else "numpy"


def _byte_table() -> np.ndarray:
    """TABLE[0][b]: the register after shifting byte ``b`` through 8 steps of the division."""
    table = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        table = np.where(table & 1, (table >> 1) ^ np.uint32(POLYNOMIAL), table >> 1).astype(np.uint32)
    return table


def _slicing_tables() -> np.ndarray:
    """TABLE[k][b]: byte ``b`` followed by ``k`` zero bytes (slicing by 4)."""
    tables = [_byte_table()]
    for _ in range(3):
        previous = tables[-1]
        tables.append((previous >> 8) ^ tables[0][previous & 0xFF])
    return np.stack(tables)


TABLE = _slicing_tables()
_TABLE0 = [int(v) for v in TABLE[0]]


def mask(crc: int) -> int:
    """TensorFlow's stored form of a CRC: rotate right by 15 bits, add a constant."""
    return (((crc >> 15) | (crc << 17)) + MASK_DELTA) & 0xFFFFFFFF


def unmask(masked: int) -> int:
    """Undo :func:`mask`."""
    rotated = (masked - MASK_DELTA) & 0xFFFFFFFF
    return ((rotated >> 17) | (rotated << 15)) & 0xFFFFFFFF


def crc32c_python(data, crc: int = 0) -> int:
    """CRC32C of ``data`` (bytes-like), continuing from ``crc`` (the CRC of what came before)."""
    register = crc ^ 0xFFFFFFFF
    for byte in bytes(data):
        register = _TABLE0[(register ^ byte) & 0xFF] ^ (register >> 8)
    return register ^ 0xFFFFFFFF


# --- linear maps on the 32-bit register, as the images of its 32 bits -----------------------------

def _apply(images: np.ndarray, values):
    """Apply the linear map given by ``images`` (image of bit j at ``images[j]``) to ``values``."""
    values = np.asarray(values, dtype=np.uint32)
    bits = (values[..., None] >> np.arange(32, dtype=np.uint32)) & 1
    return np.bitwise_xor.reduce(np.where(bits.astype(bool), images, np.uint32(0)), axis=-1)


def _one_zero_byte() -> np.ndarray:
    bits = np.uint32(1) << np.arange(32, dtype=np.uint32)
    return TABLE[0][bits & 0xFF] ^ (bits >> 8)


_ZERO_BYTE = _one_zero_byte()


def zeros_shift(length: int) -> np.ndarray:
    """The map "run the register through ``length`` zero bytes", by square-and-multiply."""
    result = np.uint32(1) << np.arange(32, dtype=np.uint32)   # identity
    power = _ZERO_BYTE
    while length:
        if length & 1:
            result = _apply(power, result)
        length >>= 1
        if length:
            power = _apply(power, power)
    return result


def _shift_tables(images: np.ndarray) -> np.ndarray:
    """Four 256-entry tables for applying ``images`` one byte of the register at a time."""
    byte_bits = ((np.arange(256)[:, None] >> np.arange(8)) & 1).astype(bool)      # [256, 8]
    return np.stack([np.bitwise_xor.reduce(np.where(byte_bits, images[8 * k:8 * k + 8], np.uint32(0)), axis=1)
                     for k in range(4)])


def _lookup4(tables: np.ndarray, register: np.ndarray) -> np.ndarray:
    return (tables[3][register >> 24] ^ tables[2][(register >> 16) & 0xFF] ^
            tables[1][(register >> 8) & 0xFF] ^ tables[0][register & 0xFF])


def _raw_piece(piece: np.ndarray) -> int:
    """The register after ``piece`` (uint8, any length) starting from 0, computed in lanes."""
    lanes = LANES
    while lanes > 1 and lanes * 64 > piece.size:
        lanes //= 2
    lane_length = -(-piece.size // lanes)
    lane_length += -lane_length % 4
    padded = np.zeros(lanes * lane_length, dtype=np.uint8)
    padded[padded.size - piece.size:] = piece                  # zeros in front change nothing
    words = padded.view("<u4").reshape(lanes, lane_length // 4).T.copy()   # [steps, lanes]
    register = np.zeros(lanes, dtype=np.uint32)
    tables = TABLE[::-1]  # the word's first byte has three more bytes after it: TABLE[3]
    for word in words:
        register ^= word
        register = (tables[0][register & 0xFF] ^ tables[1][(register >> 8) & 0xFF] ^
                    tables[2][(register >> 16) & 0xFF] ^ tables[3][register >> 24])
    length = lane_length
    while register.size > 1:                                  # merge neighbours pairwise
        shift = _shift_tables(zeros_shift(length))
        register = _lookup4(shift, register[0::2]) ^ register[1::2]
        length *= 2
    return int(register[0])


def crc32c(data, crc: int = 0) -> int:
    """CRC32C of ``data`` (bytes, bytearray, memoryview or ndarray), continuing from ``crc``.

    Uses Google's C library when it is installed (:data:`ACCELERATED`), else NumPy lanes for
    large buffers (a few hundred MB/s) and the plain loop for small ones; the extra memory
    is at most two pieces of :data:`PIECE` bytes.
    """
    if isinstance(data, np.ndarray):
        flat = np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    else:
        flat = np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)
    if ACCELERATED is not None:
        flat = flat.view()
        flat.flags.writeable = False      # the C library takes read-only buffers only
        return ACCELERATED.extend(crc, flat)
    if flat.size < _SMALL:
        return crc32c_python(flat.tobytes(), crc)
    register = crc ^ 0xFFFFFFFF
    for start in range(0, flat.size, PIECE):
        piece = flat[start:start + PIECE]
        register = int(_apply(zeros_shift(piece.size), register)) ^ _raw_piece(piece)
    return register ^ 0xFFFFFFFF
