"""Protocol buffers' wire format, the little of it TensorFlow's checkpoints need.

A message is a sequence of fields; each starts with a *key*, the varint
``field_number << 3 | wire_type``, then the value:

* wire type 0: a varint (7 bits per byte, least significant group first, the top bit of
  a byte says "more follows"); negative int32/int64 take ten bytes (two's complement);
* wire type 1: 8 bytes little-endian (fixed64, double);
* wire type 2: a varint length, then that many bytes (strings, nested messages, packed
  repeated numbers);
* wire type 5: 4 bytes little-endian (fixed32, float).

:func:`fields` decodes one message into ``{field number: [values]}`` (a field may repeat);
:func:`encode` writes one. There is no schema here: the checkpoint readers know which
field number means what.

>>> data = encode([(1, 0, 3), (2, 2, b"ab"), (6, 5, 7)])
>>> fields(data)
{1: [3], 2: [b'ab'], 6: [7]}
>>> signed(read_varint(encode_varint(-1 & (2**64 - 1)), 0)[0])
-1
"""
from __future__ import annotations

import struct


class WireError(ValueError):
    """The bytes are not a well-formed protocol buffer message."""


def read_varint(data, position: int) -> tuple:
    """Decode the varint at ``position``; return ``(value, position after it)``."""
    value, shift = 0, 0
    while True:
        if position >= len(data):
            raise WireError("varint runs past the end of the data")
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
        if shift > 63:
            raise WireError("varint longer than 10 bytes")


def encode_varint(value: int) -> bytes:
    """The varint bytes of a non-negative ``value`` (pass ``value & (2**64 - 1)`` for a negative one)."""
    if value < 0:
        raise ValueError(f"encode_varint: {value} is negative")
    out = bytearray()
    while True:
        group = value & 0x7F
        value >>= 7
        if value:
            out.append(group | 0x80)
        else:
            out.append(group)
            return bytes(out)


def signed(value: int, bits: int = 64) -> int:
    """Read an unsigned varint value as the two's-complement integer it encodes."""
    return value - (1 << bits) if value >= 1 << (bits - 1) else value


def fields(data) -> dict:
    """Decode one message: ``{field number: [value, ...]}`` in the order they appear.

    Varints come back as ints, fixed32/fixed64 as unsigned ints (see :func:`as_float`),
    length-delimited values as ``bytes`` (or, when ``data`` is not ``bytes``, memoryviews into
    it: a large tensor's bytes are not copied).
    """
    if not isinstance(data, bytes):
        data = memoryview(data).cast("B")
    out: dict = {}
    position = 0
    while position < len(data):
        key, position = read_varint(data, position)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise WireError("field number 0")
        if wire_type == 0:
            value, position = read_varint(data, position)
        elif wire_type == 1:
            if position + 8 > len(data):
                raise WireError(f"field {number}: fixed64 runs past the end")
            value = int.from_bytes(data[position:position + 8], "little")
            position += 8
        elif wire_type == 2:
            length, position = read_varint(data, position)
            if position + length > len(data):
                raise WireError(f"field {number}: {length} bytes announced, {len(data) - position} left")
            value = data[position:position + length]   # bytes stay bytes, a memoryview stays a view
            position += length
        elif wire_type == 5:
            if position + 4 > len(data):
                raise WireError(f"field {number}: fixed32 runs past the end")
            value = int.from_bytes(data[position:position + 4], "little")
            position += 4
        else:
            raise WireError(f"field {number}: unsupported wire type {wire_type}")
        out.setdefault(number, []).append(value)
    return out


def packed_varints(values: list) -> list:
    """A repeated integer field's values, whether written packed (bytes) or one by one."""
    out = []
    for value in values:
        if not isinstance(value, int):
            position = 0
            while position < len(value):
                number, position = read_varint(value, position)
                out.append(number)
        else:
            out.append(value)
    return out


def packed_fixed(values: list, size: int) -> bytes:
    """A repeated fixed32/fixed64 field's bytes (little-endian), packed or one by one."""
    out = bytearray()
    for value in values:
        out += value.to_bytes(size, "little") if isinstance(value, int) else value
    return bytes(out)


def as_float(value: int) -> float:
    """A fixed32 field's value as the float it holds."""
    return struct.unpack("<f", value.to_bytes(4, "little"))[0]


def encode(items) -> bytes:
    """Encode ``[(field number, wire type, value), ...]`` (ints for types 0, 1, 5; bytes for 2)."""
    out = bytearray()
    for number, wire_type, value in items:
        out += encode_varint(number << 3 | wire_type)
        if wire_type == 0:
            out += encode_varint(value & (2**64 - 1))
        elif wire_type == 1:
            out += (value & (2**64 - 1)).to_bytes(8, "little")
        elif wire_type == 2:
            out += encode_varint(len(value)) + bytes(value)
        elif wire_type == 5:
            out += (value & 0xFFFFFFFF).to_bytes(4, "little")
        else:
            raise ValueError(f"encode: unsupported wire type {wire_type}")
    return bytes(out)
