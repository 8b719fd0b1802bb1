"""CRC32C (Castagnoli), in Python and NumPy: the checksum of TensorFlow's files.

TensorFlow checks every block of a checkpoint's index and every tensor's bytes with
CRC32C, the 32-bit cyclic redundancy check with the (reflected) polynomial ``0x82F63B78``,
initial register ``0xFFFFFFFF`` and a final inversion. It stores the checksum *masked*
(:func:`mask`): rotated right by 15 bits plus a constant, so that the CRC of a string that
itself contains CRCs does not degenerate.

Two ways to compute it, with the same answer:

* :func:`crc32c_python`: the textbook loop, one table lookup per byte. Read this one first.
* :func:`crc32c_fast`: NumPy, for large buffers, by *folding* (below): a few XORs of whole
  slices per byte instead of a table lookup, several GB/s.

:func:`crc32c` picks between them by size, or hands the buffer to Google's C library
when it is installed (``pip install -e ".[fastcrc]"``: the ``google-crc32c`` package, which
uses the CPU's CRC32 instruction). Every checksum is computed and checked either way;
:func:`backend` says which path large buffers take.

**Folding.** Read the bytes as a polynomial over GF(2) (each byte is eight coefficients;
``z = x^8`` shifts by one byte). The CRC is the remainder of that polynomial modulo ``P``
(the Castagnoli polynomial), so two strings of equal length whose polynomials differ by a
multiple of ``P`` have the same CRC. A *sparse* multiple is the useful kind: TensorFlow's
``P`` divides ``z^40145 + z^151 + z^48 + 1`` (:data:`BULK`). So a byte that stands 40,145
bytes before some position can be removed and XORed in at 151, 48 and 0 bytes before that
position instead: the CRC does not change, and the string got shorter. Doing this for a
whole slice at once is three NumPy XORs of slices, long division by a four-term divisor.
Squaring over GF(2) keeps a sum of powers a sum of powers (``(a + b)^2 = a^2 + b^2``), so
``z^(40145 * 2^j) = z^(151 * 2^j) + z^(48 * 2^j) + 1`` too, and a buffer can be halved
again and again. Two more facts make it a checksum routine:

* zero bytes in front of the data do not change a register that starts at 0, so a buffer
  can be padded at the front to any length;
* the initial register is XORed into the first four bytes (that is what a reflected CRC
  does with them), so ``crc32c(data, crc)`` is the plain remainder of ``data`` with those
  four bytes changed.

A large buffer is read in pieces of :data:`PIECE` bytes, each added to a running
remainder (Horner's rule: remainder times ``z^PIECE`` plus the piece, which is again three
XORs thanks to the divisor), and the final remainder is folded down to 290 bytes
(:data:`FINAL`, a six-term divisor) whose CRC the plain loop finishes.

Why four terms and not three: ``P`` has the factor ``x + 1``, so every multiple of it has
an even number of terms; and CRC32C was chosen so that no four-term multiple is shorter
than 5,244 bits. :data:`BULK` and :data:`FINAL` were found by a meet-in-the-middle search
(``bench/crc32c_relations.py``); :func:`divides` checks them.

>>> hex(crc32c(b"123456789"))      # the standard check value
'0xe3069283'
>>> crc32c_fast(bytes(32)) == crc32c_python(bytes(32)) == 0x8A9136AA   # 32 zero bytes
True
>>> unmask(mask(0x12345678)) == 0x12345678
True
"""
from __future__ import annotations

import numpy as np

POLYNOMIAL = 0x82F63B78  # Castagnoli, bit-reversed
MASK_DELTA = 0xA282EAD8

# Sparse multiples of P, as (k, exponents): z^k = sum of z^e over the exponents (mod P), z = one byte.
BULK = (40145, (151, 48, 0))                  # four terms: the pieces and the first halvings
FINAL = (290, (136, 113, 107, 32, 0))          # six terms: the last few kilobytes, down to 290 bytes
LEVEL = 2                                      # pieces use BULK squared twice: z^(4 k) = ...
PIECE = BULK[0] << LEVEL                       # 160,580 bytes: remainder and piece stay in the CPU's cache
_SMALL = 1 << 10                               # below this many bytes the plain loop is faster


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


def _byte_table() -> list:
    """TABLE[b]: the register after shifting byte ``b`` through 8 steps of the division."""
    table = []
    for byte in range(256):
        register = byte
        for _ in range(8):
            register = (register >> 1) ^ (POLYNOMIAL if register & 1 else 0)
        table.append(register)
    return table


TABLE = _byte_table()


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
        register = TABLE[(register ^ byte) & 0xFF] ^ (register >> 8)
    return register ^ 0xFFFFFFFF


def divides(relation: tuple) -> bool:
    """Whether P divides ``z^k + sum(z^e)`` for ``relation = (k, exponents)``.

    The polynomial, written out as bytes, is a 1 followed by zero bytes, with a 1 at the
    positions of the other terms; P divides it exactly when its remainder, the CRC from a
    zero register without the final inversion, is 0.
    """
    k, exponents = relation
    terms = bytearray(k + 1)
    terms[0] = 1                                   # z^k: the first of k + 1 bytes
    for exponent in exponents:
        terms[k - exponent] ^= 1                   # z^e: e bytes before the end
    return crc32c_python(terms, 0xFFFFFFFF) ^ 0xFFFFFFFF == 0


# --- the fast path: long division by sparse multiples of P, in NumPy slices ---------------------------

def _divide(work: np.ndarray, length: int, shifts: list) -> np.ndarray:
    """Fold the bytes in front of the last ``length`` bytes of ``work`` into them, in place.

    ``z^length = sum(z^s for s in shifts)`` (mod P): the byte ``length`` bytes before a
    position moves to ``s`` bytes before it, for each ``s``. Slices of ``length - max(shifts)``
    bytes move at once (what they land on is after them), front to back, so bytes that
    land in front of the last ``length`` move again. Returns the last ``length`` bytes.
    """
    step = length - max(shifts)
    front = work.size - length
    for start in range(0, front, step):
        chunk = work[start:min(start + step, front)]
        for shift in shifts:
            target = work[start + length - shift:start + length - shift + chunk.size]
            np.bitwise_xor(target, chunk, out=target)
    return work[front:]


def fold(work: np.ndarray, relation: tuple) -> np.ndarray:
    """Shorten ``work`` (uint8, changed in place) to at most ``k`` bytes with the same CRC.

    Each step divides by the relation squared ``j`` times, ``z^(k 2^j)``, for the largest
    ``k 2^j`` shorter than what is left: about halving it. Returns a view of ``work``.
    """
    k, exponents = relation
    while work.size > k:
        level = ((work.size - 1) // k).bit_length() - 1
        work = _divide(work, k << level, [e << level for e in exponents])
    return work


def _as_bytes(data) -> np.ndarray:
    """A flat uint8 view of bytes, bytearray, memoryview, mmap or ndarray (no copy if contiguous)."""
    if isinstance(data, np.ndarray):
        return np.ascontiguousarray(data).reshape(-1).view(np.uint8)
    return np.frombuffer(memoryview(data).cast("B"), dtype=np.uint8)


def crc32c_fast(data, crc: int = 0) -> int:
    """CRC32C of ``data`` (bytes-like or ndarray), continuing from ``crc``, by folding.

    The same value as :func:`crc32c_python`. Memory: two buffers of about :data:`PIECE`
    bytes; ``data`` is only read.
    """
    flat = _as_bytes(data)
    size = flat.size
    if size < 4:
        return crc32c_python(flat, crc)
    head = size % PIECE or PIECE          # the first piece, padded with zeros in front
    if head < 4:                          # too short to take the register: the plain loop does it
        return crc32c_fast(flat[head:], crc32c_python(flat[:head], crc))
    shifts = [e << LEVEL for e in BULK[1]]          # z^PIECE = z^604 + z^192 + 1
    top = max(shifts)
    remainder = np.zeros(top + PIECE, np.uint8)     # [room for the product's high bytes | remainder]
    spare = np.empty_like(remainder)
    start = remainder.size - head
    remainder[start:] = flat[:head]
    remainder[start:start + 4] ^= np.frombuffer((crc ^ 0xFFFFFFFF).to_bytes(4, "little"), np.uint8)
    for offset in range(head, size, PIECE):       # remainder = remainder * z^PIECE + piece
        current = remainder[top:]
        np.bitwise_xor(current, flat[offset:offset + PIECE], out=spare[top:])   # * 1 + piece
        spare[:top] = 0
        for shift in shifts[:-1]:                                              # * z^604, * z^192
            target = spare[top - shift:top - shift + PIECE]
            np.bitwise_xor(target, current, out=target)
        _divide(spare, PIECE, shifts)                                          # back to PIECE bytes
        remainder, spare = spare, remainder
    residue = fold(fold(remainder[remainder.size - min(size, PIECE):], BULK), FINAL)
    return crc32c_python(residue, 0xFFFFFFFF)       # register 0: the initial one is in the data


def crc32c(data, crc: int = 0) -> int:
    """CRC32C of ``data`` (bytes, bytearray, memoryview, mmap or ndarray), continuing from ``crc``.

    Google's C library when it is installed (:data:`ACCELERATED`), else the plain loop for
    small buffers and :func:`crc32c_fast` for large ones.
    """
    flat = _as_bytes(data)
    if ACCELERATED is not None:
        flat = flat.view()
        flat.flags.writeable = False      # the C library takes read-only buffers only
        return ACCELERATED.extend(crc, flat)
    if flat.size < _SMALL:
        return crc32c_python(flat, crc)
    return crc32c_fast(flat, crc)
