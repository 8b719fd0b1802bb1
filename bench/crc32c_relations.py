"""How minislim's CRC32C folding constants were found (``crc32c.BULK`` and ``crc32c.FINAL``).

The NumPy CRC32C (``minislim/checkpoint/crc32c.py``) folds data with sparse multiples of
the Castagnoli polynomial P: ``z^k = z^a + z^b + 1 (mod P)``, ``z`` = one byte. This script
finds such relations by a meet-in-the-middle search: write ``r(m)`` for the remainder of
``z^m`` (the CRC, from a zero register, of a 1 byte followed by ``m`` zero bytes); the
relation holds when ``r(k) ^ r(0) == r(a) ^ r(b)``, so the remainders of all pairs go into
a dictionary and each ``k`` is looked up in it. Four terms with small ``a, b`` (two
positions that a piece's product lands on, close to its end) for the bulk; six terms with a
small ``k`` for the last kilobytes (CRC32C has no four-term multiple shorter than 5,244
bits); of those, minislim takes one whose second exponent is below ``k / 2``, so that each
halving moves two slices.

Run: ``python bench/crc32c_relations.py`` (about a minute, pure Python).
"""
from __future__ import annotations

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from minislim.checkpoint.crc32c import BULK, FINAL, TABLE, divides  # noqa: E402


def remainders(count: int) -> list:
    """``r(m)`` for m < count: the register after a 1 byte and m zero bytes, from 0."""
    register = TABLE[1]
    out = []
    for _ in range(count):
        out.append(register)
        register = (register >> 8) ^ TABLE[register & 0xFF]     # one more zero byte
    return out


def four_terms(r: list, small: int) -> list:
    """Every ``(k, (a, b, 0))`` with ``a, b < small`` and ``k < len(r)``, best (smallest a/k) first."""
    pairs = {r[a] ^ r[b]: (a, b) for a in range(small) for b in range(1, a)}
    found = [(k, (*pairs[r[k] ^ r[0]], 0)) for k in range(small, len(r)) if r[k] ^ r[0] in pairs]
    return sorted(found, key=lambda relation: relation[1][0] / relation[0])


def six_terms(r: list, limit: int) -> list:
    """Every ``(k, (a, b, c, d, 0))`` with all exponents below ``limit``, smallest k first."""
    pairs = {}
    for c in range(2, limit):
        for d in range(1, c):
            pairs.setdefault(r[c] ^ r[d] ^ r[0], (c, d))
    found = {}
    for k in range(3, limit):
        for a in range(2, k):
            partial = r[k] ^ r[a]
            for b in range(1, a):
                c_d = pairs.get(partial ^ r[b])
                if c_d is not None and len({k, a, b, *c_d}) == 5:
                    top, *rest = sorted((k, a, b, *c_d), reverse=True)
                    found[top, (*rest, 0)] = True
    return sorted(found)


def main() -> None:
    r = remainders(1 << 17)
    bulk = four_terms(r, 256)
    print("four terms, z^k = z^a + z^b + 1, a and b below 256, k below 131072 (smallest a/k first):")
    for relation in bulk[:5]:
        print("   ", relation, "holds" if divides(relation) else "DOES NOT HOLD")
    final = six_terms(r, 300)
    print("six terms, all exponents below 300 (smallest k first):")
    for relation in final[:8]:
        print("   ", relation, "holds" if divides(relation) else "DOES NOT HOLD")
    print(f"minislim uses BULK = {BULK} (found: {BULK in bulk}) and FINAL = {FINAL} (found: {FINAL in final})")


if __name__ == "__main__":
    main()
