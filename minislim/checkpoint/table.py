"""TensorFlow's sorted string table (LevelDB's SSTable): the container of its checkpoints.

Both checkpoint formats store ``key -> value`` pairs in one: V2's ``.index`` file, V1's
whole checkpoint. The file layout, from the end:

* the **footer**, the last 48 bytes: two *block handles* (each a varint offset and a
  varint size), the meta-index block's and the index block's, zero-padded to 40 bytes,
  then the 8-byte magic number :data:`MAGIC` (little-endian);
* the **index block**: one entry per data block, its key at least the block's last key,
  its value the data block's handle; so the data blocks are found in key order;
* the **data blocks**, each followed by a 5-byte trailer: the compression type (0 = none,
  1 = snappy) and the masked CRC32C of the block's bytes plus that type byte.

A block is a run of entries, then an array of uint32 *restart points* and their count.
Keys are sorted, so each entry stores only what differs from the previous key:
``varint shared, varint non_shared, varint value_length, key[shared:], value``. At a
restart point ``shared`` is 0 (a reader could binary-search them; this one reads blocks
front to back).

>>> import io
>>> out = io.BytesIO()
>>> write_table(out, [(b"apple", b"1"), (b"apricot", b"2"), (b"banana", b"3")])
>>> {key: bytes(value) for key, value in read_table(out.getvalue()).items()}
{b'apple': b'1', b'apricot': b'2', b'banana': b'3'}
"""
from __future__ import annotations

import mmap
import os
import struct

from minislim.checkpoint.crc32c import crc32c, mask, unmask
from minislim.checkpoint.protobuf import WireError, encode_varint, read_varint

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
TRAILER_SIZE = 5
BLOCK_SIZE = 256 * 1024     # a data block is closed once it holds this many bytes
RESTART_INTERVAL = 16       # entries between restart points in data blocks
COMPRESSION = {0: "none", 1: "snappy"}


class TableError(ValueError):
    """The file is not a well-formed table (wrong magic, bad checksum, truncated block)."""


# --- reading ----------------------------------------------------------------------------------------

def open_bytes(path: str):
    """The bytes of ``path``, memory-mapped (no copy; read only as far as they are used)."""
    size = os.path.getsize(path)
    if size == 0:
        return b""
    with open(path, "rb") as handle:
        return mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)


def _handle(data, position: int, what: str) -> tuple:
    try:
        offset, position = read_varint(data, position)
        size, position = read_varint(data, position)
    except WireError as error:
        raise TableError(f"{what}: bad block handle ({error})") from None
    return (offset, size), position


def read_footer(data, name: str = "table") -> tuple:
    """``(meta-index handle, index handle)`` from the last 48 bytes, after checking the magic."""
    if len(data) < FOOTER_SIZE:
        raise TableError(f"{name}: {len(data)} bytes, shorter than the {FOOTER_SIZE}-byte footer of a "
                         "TensorFlow table (truncated, or not a TensorFlow checkpoint file)")
    footer = memoryview(data)[len(data) - FOOTER_SIZE:]
    magic, = struct.unpack("<Q", footer[40:48])
    if magic != MAGIC:
        raise TableError(f"{name}: the footer's magic number is {magic:#018x}, not {MAGIC:#018x} (truncated, "
                         "or not a TensorFlow checkpoint file)")
    meta, position = _handle(footer, 0, name + " footer")
    index, _ = _handle(footer, position, name + " footer")
    return meta, index


def read_block(data, handle: tuple, name: str, what: str, verify: bool = True):
    """The bytes of the block at ``handle`` (a memoryview), its trailer's checksum verified.

    ``verify=False`` skips the checksum (the caller checks the block later, when it reads
    it: see ``SlicedV1``), but not the bounds or the compression type.
    """
    offset, size = handle
    end = len(data) - FOOTER_SIZE
    if offset + size + TRAILER_SIZE > end:
        raise TableError(f"{name}: {what} at offset {offset} with {size} bytes runs past the data "
                         f"({end} bytes before the footer)")
    view = memoryview(data)[offset:offset + size + TRAILER_SIZE]
    if verify or view[size] != 0:       # a compressed block: first make sure the type byte is not a corrupt one
        return check_block(view, name, what, offset)
    return view[:size]


def check_block(view, name: str, what: str, offset: int):
    """``view`` (a block followed by its 5-byte trailer) without the trailer, after checking
    the trailer's masked CRC32C and that the block is not compressed."""
    size = len(view) - TRAILER_SIZE
    block, kind = view[:size], view[size]
    stored, = struct.unpack("<I", view[size + 1:size + 5])
    actual = crc32c(bytes([kind]), crc32c(block))
    if unmask(stored) != actual:
        raise TableError(f"{name}: {what} at offset {offset} fails its checksum (stored masked CRC32C "
                         f"{stored:#010x}, computed {mask(actual):#010x}): the file is corrupt")
    if kind != 0:
        raise TableError(f"{name}: {what} at offset {offset} is compressed ({COMPRESSION.get(kind, kind)}); "
                         "only uncompressed tables are supported (TensorFlow writes checkpoints uncompressed)")
    return block


def block_entries(block, name: str, what: str) -> list:
    """``[(key bytes, value memoryview), ...]`` of one block, keys checked to be increasing."""
    size = len(block)
    if size < 4:
        raise TableError(f"{name}: {what} has {size} bytes, too short for its restart count")
    restarts, = struct.unpack("<I", block[size - 4:size])
    limit = size - 4 - 4 * restarts
    if limit < 0:
        raise TableError(f"{name}: {what} claims {restarts} restart points, more than its {size} bytes hold")
    entries, key, position = [], b"", 0
    try:
        while position < limit:
            shared, position = read_varint(block, position)
            unshared, position = read_varint(block, position)
            length, position = read_varint(block, position)
            if shared > len(key) or position + unshared + length > limit:
                raise TableError(f"{name}: {what}: entry {len(entries)} runs past the block")
            new_key = key[:shared] + bytes(block[position:position + unshared])
            position += unshared
            if entries and new_key <= key:
                raise TableError(f"{name}: {what}: keys out of order ({key!r} then {new_key!r})")
            key = new_key
            entries.append((key, block[position:position + length]))
            position += length
    except WireError as error:
        raise TableError(f"{name}: {what}: entry {len(entries)} is corrupt ({error})") from None
    return entries


def table_entries(data, name: str = "table", verify: bool = True):
    """Yield ``(key, value, block handle, block description)`` for every entry, in key order.

    Values are memoryviews into ``data`` (no copies). ``verify=False`` leaves the data blocks'
    checksums to the caller (the index block's is always checked). Raises :class:`TableError`.
    """
    _, index_handle = read_footer(data, name)
    index = block_entries(read_block(data, index_handle, name, "the index block"), name, "the index block")
    last = None
    for number, (separator, value) in enumerate(index):
        try:
            handle, _ = _handle(value, 0, f"index entry {number}")
        except TableError as error:
            raise TableError(f"{name}: {error}") from None
        what = f"data block {number} (keys up to {separator.decode('utf-8', 'replace')!r})"
        try:
            entries = block_entries(read_block(data, handle, name, what, verify), name, what)
        except TableError:
            if not verify:      # a corrupt block: say so rather than what its garbage looks like
                read_block(data, handle, name, what)
            raise
        for key, value in entries:
            if last is not None and key <= last:
                raise TableError(f"{name}: {what}: keys out of order across blocks")
            if key > separator:
                raise TableError(f"{name}: {what}: key {key!r} is past the index's separator {separator!r}")
            yield key, value, handle, what
            last = key


def read_table(data, name: str = "table") -> dict:
    """Every ``key -> value`` of the table in ``data`` (bytes or a memory map), in key order.

    Values are memoryviews into ``data`` (no copies). Raises :class:`TableError`.
    """
    return {key: value for key, value, _, _ in table_entries(data, name)}


# --- writing ----------------------------------------------------------------------------------------

def _block_bytes(entries: list, restart_interval: int) -> bytes:
    out, restarts, previous = bytearray(), [], b""
    for number, (key, value) in enumerate(entries):
        shared = 0
        if number % restart_interval:
            limit = min(len(previous), len(key))
            while shared < limit and previous[shared] == key[shared]:
                shared += 1
        else:
            restarts.append(len(out))
        out += encode_varint(shared) + encode_varint(len(key) - shared) + encode_varint(len(value))
        out += key[shared:]
        out += value
        previous = key
    if not restarts:
        restarts = [0]
    out += struct.pack(f"<{len(restarts)}I", *restarts) + struct.pack("<I", len(restarts))
    return bytes(out)


def _write_block(handle, block: bytes, offset: int) -> tuple:
    trailer = bytes([0]) + struct.pack("<I", mask(crc32c(bytes([0]), crc32c(block))))
    handle.write(block)
    handle.write(trailer)
    return (offset, len(block)), offset + len(block) + TRAILER_SIZE


def write_table(handle, items, block_size: int = BLOCK_SIZE) -> None:
    """Write ``items`` (``(key bytes, value bytes)`` in strictly increasing key order) as a table."""
    offset, index, pending, pending_size, last = 0, [], [], 0, None
    for key, value in items:
        key = bytes(key)
        if last is not None and key <= last:
            raise ValueError(f"write_table: keys must be strictly increasing ({last!r} then {key!r})")
        pending.append((key, value))
        pending_size += len(key) + len(value) + 6
        last = key
        if pending_size >= block_size:
            block_handle, offset = _write_block(handle, _block_bytes(pending, RESTART_INTERVAL), offset)
            index.append((key, block_handle))
            pending, pending_size = [], 0
    if pending:
        block_handle, offset = _write_block(handle, _block_bytes(pending, RESTART_INTERVAL), offset)
        index.append((last, block_handle))
    meta_handle, offset = _write_block(handle, _block_bytes([], 1), offset)
    index_entries = [(key, encode_varint(h[0]) + encode_varint(h[1])) for key, h in index]
    index_handle, offset = _write_block(handle, _block_bytes(index_entries, 1), offset)
    footer = b"".join(encode_varint(v) for v in (*meta_handle, *index_handle))
    handle.write(footer + bytes(40 - len(footer)) + struct.pack("<Q", MAGIC))
