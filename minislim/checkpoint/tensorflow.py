"""TensorFlow checkpoints, V1 and V2, read and written with NumPy and the standard library.

A TensorFlow checkpoint is named by a *prefix*, e.g. ``model.ckpt-1000`` or
``vgg_16.ckpt``; which files exist tells the format:

* **V2** (TF >= 0.12, the default since): ``prefix.index``, a sorted table
  (:mod:`minislim.checkpoint.table`) whose key ``""`` holds a ``BundleHeaderProto``
  (number of data shards, byte order) and whose other keys are tensor names, each with a
  ``BundleEntryProto``: dtype, shape, which data shard, offset and size there, and the
  masked CRC32C of the bytes. The bytes themselves are raw, little-endian, C order, in
  ``prefix.data-00000-of-00001`` (and more shards for a sharded save).
* **V1** (the 2016 zoo tarballs: ``vgg_16.ckpt``, ``inception_v1.ckpt``): one table
  (or ``prefix-00000-of-0000N`` shards) of ``SavedTensorSlices`` protos: key ``""`` lists
  every tensor's name, shape, dtype and slices; each slice's values are a ``TensorProto``
  under a key that encodes the name and the slice.

A *partitioned* variable is saved as slices (in V2: a full entry listing its slices, and
one entry per slice under an encoded key); they are put back together here.

>>> import os, tempfile
>>> import numpy as np
>>> prefix = os.path.join(tempfile.mkdtemp(), "model.ckpt")
>>> _ = write_v2(prefix, {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "global_step": np.int64(7)})
>>> checkpoint = open_checkpoint(prefix)
>>> checkpoint.format, checkpoint.shapes()
('V2', {'global_step': (), 'w': (2, 3)})
>>> checkpoint.read("w")[1].tolist()
[3.0, 4.0, 5.0]
"""
from __future__ import annotations

import glob
import mmap
import os
import re
import struct
import tempfile

import numpy as np

from minislim.checkpoint.crc32c import crc32c, mask, unmask
from minislim.checkpoint.format import CheckpointError
from minislim.checkpoint.protobuf import (WireError, encode, encode_varint, fields, packed_fixed,
                                          packed_varints, read_varint, signed)
from minislim.checkpoint.table import (TRAILER_SIZE, TableError, block_entries, check_block, open_bytes, read_block,
                                       read_table, table_entries, write_table)

# TensorFlow's DataType enum (types.proto) -> (name, NumPy dtype); None: not readable here.
DTYPES = {
    1: ("float32", np.dtype("<f4")), 2: ("float64", np.dtype("<f8")), 3: ("int32", np.dtype("<i4")),
    4: ("uint8", np.dtype("u1")), 5: ("int16", np.dtype("<i2")), 6: ("int8", np.dtype("i1")),
    7: ("string", None), 8: ("complex64", np.dtype("<c8")), 9: ("int64", np.dtype("<i8")),
    10: ("bool", np.dtype("?")), 11: ("qint8", None), 12: ("quint8", None), 13: ("qint32", None),
    14: ("bfloat16", np.dtype("<u2")), 15: ("qint16", None), 16: ("quint16", None),
    17: ("uint16", np.dtype("<u2")), 18: ("complex128", np.dtype("<c16")), 19: ("float16", np.dtype("<f2")),
    20: ("resource", None), 21: ("variant", None), 22: ("uint32", np.dtype("<u4")), 23: ("uint64", np.dtype("<u8")),
}
STRING, BFLOAT16 = 7, 14
TF_ENUM = {np.dtype(v[1]).newbyteorder("="): k for k, v in DTYPES.items()
           if v[1] is not None and k != BFLOAT16}
_SHARD = re.compile(r"^(?P<prefix>.+)[.-]data-(?P<shard>\d{5})-of-(?P<count>\d{5})$")


class TFCheckpointError(CheckpointError):
    """A TensorFlow checkpoint cannot be read (the message names the file and the tensor)."""


def dtype_name(enum: int) -> str:
    return DTYPES.get(enum, (f"DataType {enum}", None))[0]


# --- shapes and slices ---------------------------------------------------------------------------------

def parse_shape(data) -> tuple:
    """A ``TensorShapeProto`` (dim = 2: {size = 1}, unknown_rank = 3) as a tuple."""
    message = fields(data)
    if message.get(3, [0])[0]:
        raise WireError("the shape has unknown rank")
    return tuple(signed(fields(dim).get(1, [0])[0]) for dim in message.get(2, []))


def encode_shape(shape) -> bytes:
    return encode([(2, 2, encode([(1, 0, int(size))] if size else [])) for size in shape])


def parse_slice(data, rank: int) -> list:
    """A ``TensorSliceProto`` (extent = 1: {start = 1, length = 2}) as ``[(start, length or -1)]``.

    An extent without a length is the whole dimension (-1); no extents at all: the whole tensor.
    """
    extents = []
    for extent in fields(data).get(1, []):
        message = fields(extent)
        extents.append((signed(message.get(1, [0])[0]), signed(message[2][0]) if 2 in message else -1))
    return extents or [(0, -1)] * rank


# OrderedCode, which TensorFlow uses to name a slice: EncodeTensorNameSlice(name, slice).
_SIGNED_HEADER = {1: (0x80, 0), 2: (0xC0, 0), 3: (0xE0, 0), 4: (0xF0, 0), 5: (0xF8, 0), 6: (0xFC, 0),
                  7: (0xFE, 0), 8: (0xFF, 0), 9: (0xFF, 0x80), 10: (0xFF, 0xC0)}


def _number_increasing(value: int) -> bytes:
    body = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return bytes([len(body)]) + body


def _signed_number_increasing(value: int) -> bytes:
    magnitude = ~value if value < 0 else value
    length = min(max(1, (magnitude.bit_length() + 7) // 7), 10)
    body = bytearray(value.to_bytes(10, "big", signed=True)[10 - length:])
    first, second = _SIGNED_HEADER[length]
    body[0] ^= first
    if length > 1:
        body[1] ^= second
    return bytes(body)


def slice_key(name: str, extents: list) -> bytes:
    """The table key of one slice of ``name``: ``0``, the escaped name, the rank, (start, length) pairs."""
    out = bytearray(_number_increasing(0))
    out += _escape(name.encode("utf-8")) + b"\x00\x01"
    out += _number_increasing(len(extents))
    for start, length in extents:
        out += _signed_number_increasing(start) + _signed_number_increasing(length)
    return bytes(out)


def _escape(raw: bytes) -> bytes:
    out = bytearray()
    for byte in raw:
        out += b"\x00\xff" if byte == 0 else b"\xff\x00" if byte == 0xFF else bytes([byte])
    return bytes(out)


def _index(extents: list, shape: tuple) -> tuple:
    """The NumPy index of a slice and the slice's own shape."""
    index, sub_shape = [], []
    for (start, length), size in zip(extents, shape):
        stop = size if length == -1 else start + length
        if not 0 <= start <= stop <= size:
            raise WireError(f"slice [{start}, {stop}) lies outside a dimension of size {size}")
        index.append(slice(start, stop))
        sub_shape.append(stop - start)
    return tuple(index), tuple(sub_shape)


# --- finding the files -------------------------------------------------------------------------------

def _is_table(path: str) -> bool:
    from minislim.checkpoint.table import MAGIC
    try:
        if os.path.getsize(path) < 48:
            return False
        with open(path, "rb") as handle:
            handle.seek(-8, os.SEEK_END)
            return struct.unpack("<Q", handle.read(8))[0] == MAGIC
    except OSError:
        return False


def find(path) -> str | None:
    """The checkpoint prefix ``path`` names, if it names a TensorFlow checkpoint, else None.

    Accepts the prefix itself, ``prefix.index``, one of its data files, a V1 file or the
    first of its shards, and a directory holding TensorFlow's ``checkpoint`` state file.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        return _from_state_file(path)
    if path.endswith(".index") and os.path.isfile(path):
        path = path[:-len(".index")]
    match = _SHARD.match(path)
    if match and os.path.isfile(match.group("prefix") + ".index"):
        path = match.group("prefix")
    if os.path.isfile(path + ".index"):
        return path
    if os.path.isfile(path) and not path.endswith(".npz") and _is_table(path):
        return path
    if _v1_shards(path):
        return path
    return None


def _v1_shards(prefix: str) -> list:
    return sorted(p for p in glob.glob(glob.escape(prefix) + "-?????-of-?????") if _is_table(p))


def _from_state_file(directory: str) -> str | None:
    """``model_checkpoint_path`` of TensorFlow's ``checkpoint`` text file in ``directory``."""
    state = os.path.join(directory, "checkpoint")
    if not os.path.isfile(state):
        return None
    with open(state, encoding="utf-8", errors="replace") as handle:
        match = re.search(r'^model_checkpoint_path:\s*"(.*)"\s*$', handle.read(), re.MULTILINE)
    if not match:
        return None
    prefix = match.group(1)
    prefix = prefix if os.path.isabs(prefix) else os.path.join(directory, prefix)
    return prefix if find(prefix) == prefix else None


def open_checkpoint(path):
    """Open the TensorFlow checkpoint ``path`` names (V1 or V2): reads only its index."""
    prefix = find(path)
    if prefix is None:
        raise TFCheckpointError(f"{os.fspath(path)!r} is not a TensorFlow checkpoint (no {os.fspath(path)}.index, "
                                "and not a V1 checkpoint file)")
    if os.path.isfile(prefix + ".index"):
        return BundleV2(prefix)
    return SlicedV1(prefix)


# --- V2: the tensor bundle ---------------------------------------------------------------------------------

class Entry:
    """One tensor of a checkpoint: its dtype enum, shape, and where its bytes are."""

    def __init__(self, name, dtype, shape, shard=0, offset=0, size=0, crc=None, slices=()):
        self.name, self.dtype, self.shape = name, dtype, shape
        self.shard, self.offset, self.size, self.crc, self.slices = shard, offset, size, crc, list(slices)


class BundleV2:
    """A V2 checkpoint: ``prefix.index`` plus ``prefix.data-*-of-N``."""

    format = "V2"

    def __init__(self, prefix: str):
        self.prefix = prefix
        index_path = prefix + ".index"
        try:
            table = read_table(open_bytes(index_path), index_path)
            header = fields(table.pop(b"", b""))
        except (TableError, WireError) as error:
            raise TFCheckpointError(f"TensorFlow checkpoint {index_path!r}: {error}") from None
        self.num_shards = header.get(1, [1])[0]
        self.big_endian = header.get(2, [0])[0] == 1
        self.entries, self.slice_entries = {}, {}
        for key, value in table.items():
            name = key.decode("utf-8", "replace")
            try:
                entry = self._entry(name, value)
            except WireError as error:
                raise TFCheckpointError(f"TensorFlow checkpoint {index_path!r}: the entry of tensor {name!r} "
                                        f"is corrupt ({error})") from None
            (self.slice_entries if key[:1] == b"\x00" else self.entries)[key if key[:1] == b"\x00" else name] = entry

    def _entry(self, name, value) -> Entry:
        message = fields(value)
        shape = parse_shape(message[2][0]) if 2 in message else ()
        crc = message[6][0] if 6 in message else None
        slices = [parse_slice(s, len(shape)) for s in message.get(7, [])]
        return Entry(name, message.get(1, [0])[0], shape, message.get(3, [0])[0], message.get(4, [0])[0],
                     message.get(5, [0])[0], crc, slices)

    def shapes(self) -> dict:
        """``{name: shape}`` of every tensor, from the index alone."""
        return {name: entry.shape for name, entry in sorted(self.entries.items())}

    def dtypes(self) -> dict:
        return {name: dtype_name(entry.dtype) for name, entry in sorted(self.entries.items())}

    def data_path(self, shard: int) -> str:
        return f"{self.prefix}.data-{shard:05d}-of-{self.num_shards:05d}"

    def read(self, name: str) -> np.ndarray:
        """The tensor ``name`` (slices put together), its checksum verified."""
        if name not in self.entries:
            raise TFCheckpointError(f"TensorFlow checkpoint {self.prefix!r} has no tensor {name!r}")
        entry = self.entries[name]
        dtype = _numpy_dtype(entry, self.prefix)
        if not entry.slices:
            return self._read_entry(entry, dtype)
        out = np.empty(entry.shape, dtype=np.float32 if entry.dtype == BFLOAT16 else
                       object if dtype is None else dtype)
        covered = 0
        for extents in entry.slices:
            try:
                index, sub_shape = _index(extents, entry.shape)
            except WireError as error:
                raise TFCheckpointError(f"TensorFlow checkpoint {self.prefix!r}: tensor {name!r}: {error}") from None
            part = self.slice_entries.get(slice_key(name, extents))
            if part is None:
                raise TFCheckpointError(f"TensorFlow checkpoint {self.prefix!r}: tensor {name!r}: the slice "
                                        f"{extents} is listed but its entry is absent")
            part.name = f"{name} (slice {extents})"
            value = self._read_entry(part, dtype)
            if value.shape != sub_shape:
                raise TFCheckpointError(f"TensorFlow checkpoint {self.prefix!r}: tensor {name!r}: slice {extents} "
                                        f"has shape {list(value.shape)}, expected {list(sub_shape)}")
            out[index] = value
            covered += value.size
        if covered != out.size:
            raise TFCheckpointError(f"TensorFlow checkpoint {self.prefix!r}: tensor {name!r}: its slices cover "
                                    f"{covered} of {out.size} elements")
        return out.astype(bytes) if dtype is None else out

    def _read_entry(self, entry: Entry, dtype) -> np.ndarray:
        path = self.data_path(entry.shard)
        where = f"TensorFlow checkpoint {path!r}: tensor {entry.name!r}"
        if not os.path.isfile(path):
            raise TFCheckpointError(f"{where}: the data file is missing")
        if entry.offset + entry.size > os.path.getsize(path):
            raise TFCheckpointError(f"{where}: bytes {entry.offset}..{entry.offset + entry.size} lie past the "
                                    f"end of the file ({os.path.getsize(path)} bytes): truncated")
        count = int(np.prod(entry.shape, dtype=np.int64))
        with open(path, "rb") as handle:
            handle.seek(entry.offset)
            if dtype is None:  # strings
                raw = handle.read(entry.size)
                if len(raw) != entry.size:
                    raise TFCheckpointError(f"{where}: the data file ends early (truncated)")
                return _strings(raw, count, entry, where).reshape(entry.shape)
            if entry.size != count * dtype.itemsize:
                raise TFCheckpointError(f"{where}: {dtype_name(entry.dtype)} of shape {list(entry.shape)} needs "
                                        f"{count * dtype.itemsize} bytes, the index says {entry.size}")
            out = np.empty(count, dtype=dtype)
            if handle.readinto(memoryview(out).cast("B")) != entry.size:
                raise TFCheckpointError(f"{where}: the data file ends early (truncated)")
        self._check_crc(entry, crc32c(out), where)
        if self.big_endian:
            out = out.byteswap()
        if entry.dtype == BFLOAT16:
            out = (out.astype(np.uint32) << 16).view(np.float32)
        return out.reshape(entry.shape).view(out.dtype.newbyteorder("="))

    @staticmethod
    def _check_crc(entry: Entry, actual: int, where: str) -> None:
        if entry.crc is not None and unmask(entry.crc) != actual:
            raise TFCheckpointError(f"{where}: checksum mismatch (the index says masked CRC32C {entry.crc:#010x}, "
                                    f"the bytes give {mask(actual):#010x}): the data file is corrupt")


def _numpy_dtype(entry: Entry, where: str):
    name, dtype = DTYPES.get(entry.dtype, (None, None))
    if entry.dtype == STRING:
        return None
    if dtype is None:
        raise TFCheckpointError(f"TensorFlow checkpoint {where!r}: tensor {entry.name!r} has dtype "
                                f"{name or entry.dtype}, which minislim cannot read")
    return dtype


def _string_crc(lengths: list, length_checksum: bytes, items) -> int:
    """The entry checksum of a string tensor: each length as a uint32 (uint64 when larger), the
    4-byte length checksum, then the strings' bytes (TensorFlow's WriteStringTensor)."""
    crc = 0
    for length in lengths:
        crc = crc32c(struct.pack("<I" if length <= 0xFFFFFFFF else "<Q", length), crc)
    crc = crc32c(length_checksum, crc)
    for item in items:
        crc = crc32c(item, crc)
    return crc


def _strings(raw: bytes, count: int, entry: Entry, where: str) -> np.ndarray:
    """A V2 string tensor: varint lengths, the masked CRC32C of the lengths, then the bytes."""
    lengths, position = [], 0
    try:
        for _ in range(count):
            length, position = read_varint(raw, position)
            lengths.append(length)
    except WireError as error:
        raise TFCheckpointError(f"{where}: string lengths are corrupt ({error})") from None
    length_checksum = raw[position:position + 4]
    position += 4
    if position + sum(lengths) != len(raw):
        raise TFCheckpointError(f"{where}: {count} strings of {sum(lengths)} bytes do not fill the {len(raw)} "
                                "bytes the index gives")
    values = []
    for length in lengths:
        values.append(raw[position:position + length])
        position += length
    BundleV2._check_crc(entry, _string_crc(lengths, length_checksum, values), where)
    return np.array(values, dtype=bytes) if values else np.zeros(0, dtype="S1")


# --- V1: tables of SavedSlice -------------------------------------------------------------------------------

class SlicedV1:
    """A V1 checkpoint: one file (or ``prefix-0000i-of-0000N``) of ``SavedTensorSlices``.

    Opening reads the table's keys (and checks the index block and the block of the
    ``""`` entry, the list of tensors); reading a tensor reads its data block into memory
    with one ``readinto`` and checks that block's CRC32C there, as V2 does with a tensor's
    bytes. So every byte is checksummed once, when it is read, and reading never needs
    more memory than the tensors plus one block (see :meth:`_read_block`).
    """

    format = "V1"

    def __init__(self, prefix: str):
        self.prefix = prefix
        self.paths = [prefix] if os.path.isfile(prefix) else _v1_shards(prefix)
        self.metas = {}              # tensor name -> Entry
        self.blocks = {}             # slice key -> (file number, block handle, block name)
        self._aligned_at = {}        # (file number, block handle) -> (position, size) of its largest tensor bytes
        self._last_block = None                  # (file, offset, its entries): the block read last
        for number, path in enumerate(self.paths):
            data = open_bytes(path)
            try:
                meta = b""
                for key, value, handle, what in table_entries(data, path, verify=False):
                    self.blocks[key] = (number, handle, what)
                    content = _content_position(value, data, handle[0])
                    if content is not None and content[1] > self._aligned_at.get((number, handle), (0, 0))[1]:
                        self._aligned_at[(number, handle)] = content
                    if key == b"":   # the list of tensors: its block is checked now, since it is used now
                        read_block(data, handle, path, what)
                        meta = bytes(value)
                    del value
                self._read_meta(fields(fields(meta).get(1, [b""])[0]))
            except (TableError, WireError) as error:
                raise TFCheckpointError(f"TensorFlow checkpoint {path!r}: {error}") from None
            finally:
                if isinstance(data, mmap.mmap):
                    _close(data)

    def _read_meta(self, meta: dict) -> None:
        for saved in meta.get(1, []):
            message = fields(saved)
            name = bytes(message.get(1, [b""])[0]).decode("utf-8", "replace")
            shape = parse_shape(message[2][0]) if 2 in message else ()
            slices = [parse_slice(s, len(shape)) for s in message.get(4, [])]
            known = self.metas.setdefault(name, Entry(name, message.get(3, [0])[0], shape))
            known.slices += slices

    def shapes(self) -> dict:
        return {name: entry.shape for name, entry in sorted(self.metas.items())}

    def dtypes(self) -> dict:
        return {name: dtype_name(entry.dtype) for name, entry in sorted(self.metas.items())}

    def read(self, name: str) -> np.ndarray:
        if name not in self.metas:
            raise TFCheckpointError(f"TensorFlow checkpoint {self.prefix!r} has no tensor {name!r}")
        entry = self.metas[name]
        dtype = _numpy_dtype(entry, self.prefix)
        slices = entry.slices or [[(0, -1)] * len(entry.shape)]
        where = f"TensorFlow checkpoint {self.prefix!r}: tensor {name!r}"
        out = None
        covered = 0
        for extents in slices:
            key = slice_key(name, extents)
            if key not in self.blocks:
                raise TFCheckpointError(f"{where}: the data of slice {extents} is absent")
            try:
                index, sub_shape = _index(extents, entry.shape)
                part = self._read_slice(key, entry, sub_shape, dtype, where)
            except (WireError, KeyError, IndexError) as error:
                raise TFCheckpointError(f"{where}: the data of slice {extents} is corrupt ({error!r})") from None
            if len(slices) == 1 and part.shape == entry.shape:
                return part
            if out is None:
                out = np.empty(entry.shape, dtype=part.dtype)
            out[index] = part
            covered += part.size
        if covered != out.size:
            raise TFCheckpointError(f"{where}: its slices cover {covered} of {out.size} elements")
        return out

    def _read_slice(self, key: bytes, entry: Entry, shape: tuple, dtype, where: str) -> np.ndarray:
        """The values stored under ``key``: its block read and verified, the key found again in it."""
        number, handle, what = self.blocks[key]
        entries = self._read_block(number, handle, what)
        if key not in entries:
            raise TFCheckpointError(f"{where}: the key is no longer in {what} (the file changed)")
        data = fields(fields(entries[key])[2][0])
        return _tensor_proto(fields(data[3][0]), entry, shape, dtype, where, owner_size=handle[1])

    def _read_block(self, number: int, handle: tuple, what: str) -> dict:
        """``{key: value}`` of a data block, read with one ``readinto`` and its checksum verified.

        The buffer is placed so that the first value of the block's largest tensor lands on
        a 64-byte boundary: that tensor can then be a view of the buffer instead of a copy.
        Consecutive tensors often share a block (a layer's biases and its weights), so the
        last block read is kept.
        """
        path, (offset, size) = self.paths[number], handle
        if self._last_block is not None and self._last_block[:2] == (number, offset):
            return self._last_block[2]
        buffer = _aligned_bytes(size + TRAILER_SIZE, self._aligned_at.get((number, handle), (0, 0))[0])
        with open(path, "rb") as stream:
            stream.seek(offset)
            if stream.readinto(buffer) != buffer.size:
                raise TFCheckpointError(f"TensorFlow checkpoint {path!r}: {what} ends early (truncated)")
        try:
            entries = dict(block_entries(check_block(memoryview(buffer), path, what, offset), path, what))
        except TableError as error:
            raise TFCheckpointError(f"TensorFlow checkpoint {path!r}: {error}") from None
        self._last_block = (number, offset, entries)
        return entries


def _aligned_bytes(size: int, at: int = 0) -> np.ndarray:
    """A fresh uint8 buffer of ``size`` bytes whose byte ``at`` lies on a 64-byte boundary."""
    raw = np.empty(size + 64, np.uint8)
    start = -(raw.ctypes.data + at) % 64
    return raw[start:start + size]


_VIEW_AT_LEAST = 1 << 16   # tensors of this many bytes or more become views of their block's buffer


def _content_position(value, data, block_offset: int):
    """``(where, size)``: where a large slice's ``tensor_content`` starts in its block, and its
    size; or None (small, absent or unreadable: the block is checked, and the value parsed
    again, when it is read)."""
    if len(value) < _VIEW_AT_LEAST:
        return None
    try:   # the values: tensor_content, or (what TensorFlow's V1 writer uses) a packed repeated field
        proto = fields(fields(fields(value)[2][0])[3][0])
    except (WireError, KeyError, IndexError):
        return None
    content = max((run for runs in proto.values() for run in runs if not isinstance(run, int)), key=len, default=b"")
    if len(content) < _VIEW_AT_LEAST:
        return None
    return _address(content) - _address(data) - block_offset, len(content)


def _address(buffer) -> int:
    """The memory address of a buffer's first byte (to measure where a view lies in another)."""
    return np.frombuffer(buffer, np.uint8).ctypes.data


def _close(data: mmap.mmap) -> None:
    """Close a memory map once nothing points into it any more (else leave it to the collector)."""
    try:
        data.close()
    except BufferError:
        pass


def _view_or_copy(raw, dtype, owner_size: int) -> np.ndarray:
    """``raw``'s values as ``dtype``: a view when they are large, aligned and fill most of the
    ``owner_size`` bytes they lie in (so the view pins little else), else a copy."""
    values = np.frombuffer(raw, dtype=dtype)
    if len(raw) >= max(_VIEW_AT_LEAST, owner_size // 2) and values.flags.aligned and values.flags.writeable:
        return values
    return values.copy()


# TensorProto's value fields: dtype enum -> (field number, how it is stored)
_VALUE_FIELDS = {1: (5, "<f4"), 2: (6, "<f8"), 3: (7, "varint"), 4: (7, "varint"), 5: (7, "varint"),
                 6: (7, "varint"), 7: (8, "bytes"), 8: (9, "<f4"), 9: (10, "varint"), 10: (11, "varint"),
                 14: (13, "varint"), 17: (7, "varint"), 18: (12, "<f8"), 19: (13, "varint"),
                 22: (16, "varint"), 23: (17, "varint")}


def _tensor_proto(message: dict, entry: Entry, shape: tuple, dtype, where: str, owner_size: int = 0) -> np.ndarray:
    """The values of a ``TensorProto``: ``tensor_content`` (field 4) or the typed repeated field.

    A large, aligned ``tensor_content`` that fills most of the ``owner_size`` bytes it lies
    in (its block's fresh buffer) is returned as a view of them; anything else is copied.
    """
    count = int(np.prod(shape, dtype=np.int64))
    proto_dtype = message.get(1, [entry.dtype])[0]
    if proto_dtype != entry.dtype:
        raise TFCheckpointError(f"{where}: the data's dtype {dtype_name(proto_dtype)} is not the listed "
                                f"{dtype_name(entry.dtype)}")
    if 4 in message and dtype is not None:
        raw = message[4][0]
        if len(raw) != count * dtype.itemsize:
            raise TFCheckpointError(f"{where}: {dtype_name(entry.dtype)} of shape {list(shape)} needs "
                                    f"{count * dtype.itemsize} bytes, tensor_content has {len(raw)}")
        values = _view_or_copy(raw, dtype, owner_size)
    else:
        number, kind = _VALUE_FIELDS[entry.dtype]
        stored = message.get(number, [])
        if kind == "bytes":
            values = np.array([bytes(s) for s in stored], dtype=bytes) if stored else np.zeros(0, "S1")
        elif kind == "varint":
            numbers = packed_varints(stored)
            if entry.dtype in (3, 5, 6, 9):
                numbers = [signed(n) for n in numbers]
            values = np.array(numbers, dtype=np.uint16 if entry.dtype in (14, 19) else dtype)
            if entry.dtype == 19:
                values = values.view(np.float16)
        else:
            if len(stored) == 1 and not isinstance(stored[0], int):   # one packed run: no intermediate copy
                values = _view_or_copy(stored[0], np.dtype(kind), owner_size)
            else:
                values = np.frombuffer(packed_fixed(stored, np.dtype(kind).itemsize), dtype=kind).copy()
            if entry.dtype in (8, 18):
                values = values.view(dtype)
    if entry.dtype == BFLOAT16:
        values = (values.astype(np.uint32) << 16).view(np.float32)
    if values.size != count:
        raise TFCheckpointError(f"{where}: {values.size} values stored for shape {list(shape)} ({count} elements)")
    return values.reshape(shape).view(values.dtype.newbyteorder("=")) if values.dtype.kind != "S" else \
        values.reshape(shape)


# --- writing V2 ---------------------------------------------------------------------------------------------

def _tf_enum(array: np.ndarray, name: str) -> int:
    if array.dtype.kind in "SU":
        return STRING
    enum = TF_ENUM.get(array.dtype.newbyteorder("="))
    if enum is None:
        raise TFCheckpointError(f"write_v2: tensor {name!r} has dtype {array.dtype}, which a TensorFlow "
                                "checkpoint cannot hold")
    return enum


def _string_bytes(array: np.ndarray) -> tuple:
    """A string tensor's bytes in a V2 data file, and its entry checksum (unmasked)."""
    items = [s.encode("utf-8") if isinstance(s, str) else bytes(s) for s in array.reshape(-1).tolist()]
    lengths = [len(item) for item in items]
    length_checksum = struct.pack("<I", mask(_string_crc(lengths, b"", [])))
    raw = b"".join(encode_varint(n) for n in lengths) + length_checksum + b"".join(items)
    return raw, _string_crc(lengths, length_checksum, items)


def write_v2(prefix: str, arrays: dict) -> str:
    """Write ``arrays`` (name -> ndarray) as a V2 checkpoint TensorFlow reads; return ``prefix``.

    Files: ``prefix.data-00000-of-00001`` then ``prefix.index``, each written to a temporary
    file and renamed into place (the index last, so it never points at missing data).
    """
    prefix = os.fspath(prefix)
    directory = os.path.dirname(os.path.abspath(prefix))
    os.makedirs(directory, exist_ok=True)
    entries, offset = [], 0
    data_path, index_path = prefix + ".data-00000-of-00001", prefix + ".index"
    data_fd, data_tmp = tempfile.mkstemp(prefix=".data.", suffix=".tmp", dir=directory)
    index_fd, index_tmp = tempfile.mkstemp(prefix=".index.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(data_fd, "wb") as data:
            for name in sorted(arrays):
                if not name:
                    raise TFCheckpointError("write_v2: a tensor name must not be empty")
                array = np.asarray(arrays[name])
                enum = _tf_enum(array, name)
                if enum == STRING:
                    raw, crc = _string_bytes(array)
                else:
                    array = np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")
                    raw = memoryview(array).cast("B") if array.size else b""
                    crc = crc32c(array)
                data.write(raw)
                entry = [(1, 0, enum), (2, 2, encode_shape(array.shape))]
                entry += [(4, 0, offset)] if offset else []
                entry += [(5, 0, len(raw))] if len(raw) else []
                entry += [(6, 5, mask(crc))]
                entries.append((name.encode("utf-8"), encode(entry)))
                offset += len(raw)
            data.flush()
            os.fsync(data.fileno())
        header = encode([(1, 0, 1), (3, 2, encode([(1, 0, 1)]))])   # one shard; version: producer 1
        with os.fdopen(index_fd, "wb") as index:
            write_table(index, [(b"", header)] + entries)
            index.flush()
            os.fsync(index.fileno())
        for path in (data_tmp, index_tmp):
            os.chmod(path, 0o644)
        os.replace(data_tmp, data_path)
        os.replace(index_tmp, index_path)
    finally:
        for path in (data_tmp, index_tmp):
            if os.path.exists(path):
                os.remove(path)
    return prefix


def read_all(path) -> dict:
    """Every tensor of the TensorFlow checkpoint ``path``: ``{name: ndarray}``."""
    checkpoint = open_checkpoint(path)
    return {name: checkpoint.read(name) for name in checkpoint.shapes()}


__all__ = ["open_checkpoint", "find", "read_all", "write_v2", "TFCheckpointError", "BundleV2", "SlicedV1",
           "slice_key"]
