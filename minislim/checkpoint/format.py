"""The checkpoint file: an ``.npz`` (a zip of ``.npy`` arrays), written atomically, read safely.

Keys (each is one ``<key>.npy`` member of the zip):

* ``<variable name>``, e.g. ``vgg_16/conv1/conv1_1/weights``: a variable's value;
* ``<variable name>/<slot name>``, e.g. ``.../weights/momentum``: an optimizer slot;
* ``global_step``: an int64 scalar;
* ``minislim:format_version``: :data:`FORMAT_VERSION`;
* ``minislim:optimizer``: JSON text: the optimizer's class, update count and which keys
  are slots;
* ``minislim:extra``: JSON text: anything else the caller saved (RNG states, the input
  pipeline's position). NumPy arrays inside it are tagged and restored exactly.

Writing goes to a temporary file in the same directory, which is flushed, ``fsync``-ed
and then renamed over the final name with ``os.replace`` (atomic on POSIX and Windows): a
reader sees the old file or the new one, never half of one, even if the writer is killed.

Reading never unpickles: every member is read with ``allow_pickle=False``, so a file
holding Python objects is refused with an error instead of running code. A file without
the version key is read as a plain ``.npz`` of named arrays (version 0), which is how
weights converted from elsewhere come in.

>>> import os, tempfile
>>> import numpy as np
>>> path = os.path.join(tempfile.mkdtemp(), "demo.npz")
>>> _ = write_npz(path, {"w": np.ones(2, np.float32)})
>>> sorted(read_npz(path))
['w']
"""
from __future__ import annotations

import json
import os
import struct
import tempfile
import zipfile
import zlib

import numpy as np

FORMAT_VERSION = 1
VERSION_KEY = "minislim:format_version"
OPTIMIZER_KEY = "minislim:optimizer"
EXTRA_KEY = "minislim:extra"
GLOBAL_STEP_KEY = "global_step"
META_KEYS = (VERSION_KEY, OPTIMIZER_KEY, EXTRA_KEY)


class CheckpointError(ValueError):
    """A checkpoint cannot be read, or does not fit the variables it should restore."""


# --- writing -------------------------------------------------------------------------------

def write_npz(path: str, arrays: dict) -> str:
    """Write ``arrays`` (name -> ndarray) to ``path`` atomically; return the path.

    No member may hold Python objects (``write_array(allow_pickle=False)`` refuses them).
    """
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            with zipfile.ZipFile(handle, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
                for key, array in arrays.items():
                    array = np.asarray(array)
                    if array.dtype.hasobject:
                        raise CheckpointError(f"checkpoint {path!r}: entry {key!r} holds Python objects; "
                                              "only numeric and string arrays can be saved")
                    big = array.nbytes > 2**31 - 2**24  # zip64 only where a member needs it
                    with archive.open(key + ".npy", "w", force_zip64=big) as member:
                        np.lib.format.write_array(member, array, allow_pickle=False)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    _fsync_directory(directory)
    return path


def _fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


# --- reading -------------------------------------------------------------------------------

#: what the zip module raises on a corrupt file: besides BadZipFile, a flipped flag bit
#: asks for a password (RuntimeError) or an unknown compression method (NotImplementedError)
_ZIP_ERRORS = (zipfile.BadZipFile, OSError, EOFError, RuntimeError, NotImplementedError, struct.error, zlib.error,
               OverflowError)


def read_npz(path: str) -> dict:
    """Read every array of ``path`` (never unpickling); return name -> ndarray.

    Raises:
        CheckpointError: the file is missing, not a zip, truncated, or an entry holds
            pickled objects or is corrupt. The message names the file and the entry.
    """
    if not os.path.exists(path):
        raise CheckpointError(f"checkpoint {path!r} does not exist")
    if os.path.isdir(path):
        raise CheckpointError(f"checkpoint {path!r} is a directory; pass a file, e.g. "
                              "slim.checkpoint.latest_checkpoint(logdir)")
    size = os.path.getsize(path)
    try:
        archive = zipfile.ZipFile(path)
    except _ZIP_ERRORS as error:
        raise CheckpointError(f"checkpoint {path!r} ({size} bytes) is not a readable .npz file: it is "
                              f"truncated, corrupt, or not a checkpoint ({error}){_where_it_ends(path)}") from None
    arrays = {}
    with archive:
        _check_index(archive, path, size)
        for info in archive.infolist():
            if info.is_dir() and info.file_size == 0:
                continue
            if not info.filename.endswith(".npy"):  # np.savez and minislim write .npy members only
                raise CheckpointError(f"checkpoint {path!r}: member {info.filename!r} is not a .npy array (a "
                                      "corrupt name, or not a checkpoint)")
            key = info.filename[:-len(".npy")]
            if key in arrays:
                raise CheckpointError(f"checkpoint {path!r}: entry {key!r} appears twice; a checkpoint names "
                                      "each entry once (the file was not written by minislim, or is corrupt)")
            try:
                with archive.open(info) as member:
                    _check_member_size(member, info, path, key)
                    arrays[key] = np.lib.format.read_array(member, allow_pickle=False)
            except CheckpointError:
                raise
            except ValueError as error:
                if "pickle" in str(error) or "Object arrays" in str(error):
                    raise CheckpointError(
                        f"checkpoint {path!r}: entry {key!r} holds pickled Python objects; minislim "
                        "never unpickles checkpoint data (it could run arbitrary code)") from None
                raise CheckpointError(f"checkpoint {path!r}: entry {key!r} is corrupt ({error})") from None
            except _ZIP_ERRORS as error:
                raise CheckpointError(f"checkpoint {path!r}: entry {key!r} is truncated or corrupt "
                                      f"({error})") from None
    return arrays


def _check_index(archive, path: str, size: int) -> None:
    """The zip's index (the central directory, at the end) must list every entry the file holds.

    A corrupt index can list fewer entries than were written, and the zip module would then
    read a checkpoint without, say, its optimizer state, silently. The local headers (one in
    front of each entry's data) are walked with seeks, so this costs a few reads per entry.
    """
    listed = len(archive.infolist())
    found, position = 0, 0
    with open(path, "rb") as handle:
        while position + 30 <= size:
            handle.seek(position)
            header = handle.read(30)
            if header[:4] != b"PK\x03\x04":
                break
            flags, = struct.unpack_from("<H", header, 6)
            stored_size, _, name_length, extra_length = struct.unpack_from("<IIHH", header, 18)
            if stored_size == 0xFFFFFFFF:
                handle.seek(position + 30 + name_length)
                stored_size = _zip64_stored_size(handle.read(extra_length))
            if flags & 0x08 or stored_size is None:  # sizes after the data: cannot walk on
                return
            found += 1
            position += 30 + name_length + extra_length + stored_size
    if found > listed:
        raise CheckpointError(f"checkpoint {path!r} holds {found} entries but its zip index lists {listed}: "
                              "the index is corrupt")


#: DEFLATE cannot shrink data more than about 1032 times: a member that claims more is a bomb
MAX_DEFLATE_RATIO = 1100


def _check_member_size(member, info, path: str, key: str) -> None:
    """Check a ``.npy`` member's header against the member's size, before anything is allocated.

    A header is text anyone can write: ``shape (10**12,)`` over 100 bytes of data would
    make NumPy try to allocate terabytes. The shape times the item size must equal the
    bytes that follow the header (Python integers: no overflow), and a compressed member
    may not claim to expand more than DEFLATE can. Leaves ``member`` at its start.
    """
    if info.compress_type != zipfile.ZIP_STORED and info.file_size > MAX_DEFLATE_RATIO * max(info.compress_size, 1):
        raise CheckpointError(f"checkpoint {path!r}: entry {key!r} claims {info.file_size} bytes from "
                              f"{info.compress_size} compressed bytes, more than compression can give (corrupt)")
    version = np.lib.format.read_magic(member)
    if version == (1, 0):
        shape, _, dtype = np.lib.format.read_array_header_1_0(member)
    else:  # 2.0 and 3.0 share the layout; 3.0 headers are UTF-8
        shape, _, dtype = np.lib.format.read_array_header_2_0(member)
    if dtype.hasobject:
        raise ValueError("Object arrays cannot be loaded when allow_pickle=False")
    if any(not isinstance(n, int) or n < 0 for n in shape):
        raise ValueError(f"the header's shape {shape} is not a shape")
    count = 1
    for n in shape:
        count *= n
    needed, present = count * dtype.itemsize, info.file_size - member.tell()
    if needed != present or count > 2**62:
        raise CheckpointError(f"checkpoint {path!r}: entry {key!r}: its header says shape {shape} of "
                              f"{dtype} ({needed} bytes), the entry holds {present} bytes (corrupt)")
    member.seek(0)


def _where_it_ends(path: str) -> str:
    """For a zip cut short: which entries are whole and which one is cut (walks the local headers)."""
    try:
        with open(path, "rb") as handle:
            return _walk_local_headers(handle.read())
    except (OSError, struct.error, ValueError):  # a hint only: never fail while explaining a failure
        return ""


def _walk_local_headers(data: bytes) -> str:
    complete, position = [], 0
    while data[position:position + 4] == b"PK\x03\x04":
        if position + 30 > len(data):
            break
        flags, = struct.unpack_from("<H", data, position + 6)
        stored_size, _, name_length, extra_length = struct.unpack_from("<IIHH", data, position + 18)
        name_end = position + 30 + name_length
        name = data[position + 30:name_end].decode("utf-8", "replace")
        extra = data[name_end:name_end + extra_length]
        if stored_size == 0xFFFFFFFF:  # zip64: the real sizes are in the extra field
            stored_size = _zip64_stored_size(extra)
        end = name_end + extra_length + (stored_size or 0)
        if flags & 0x08 or stored_size is None:  # sizes written after the data: cannot tell
            break
        if end > len(data):
            cut = name[:-4] if name.endswith(".npy") else name
            whole = f"entries {[n[:-4] for n in complete]} are whole; " if complete else ""
            return f"; {whole}entry {cut!r} is cut off"
        complete.append(name)
        position = end
    if not complete:
        return ""
    tail = data[position:]
    if not tail or tail.startswith((b"PK\x01\x02", b"PK\x05\x06")):  # the central directory
        return (f"; all {len(complete)} entries up to {complete[-1][:-4]!r} are whole, the zip index "
                "at the end is cut off")
    return f"; entries {[n[:-4] for n in complete]} are whole; the entry after {complete[-1][:-4]!r} is cut off"


def _zip64_stored_size(extra: bytes):
    offset = 0
    while offset + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, offset)
        if tag == 1 and length >= 16:
            return struct.unpack_from("<Q", extra, offset + 12)[0]  # uncompressed, then compressed
        offset += 4 + length
    return None


# --- JSON for the extra state ----------------------------------------------------------------

def _encode(value):
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            raise TypeError("object arrays cannot be saved in a checkpoint")
        return {"__ndarray__": value.tolist(), "dtype": value.dtype.str, "shape": list(value.shape)}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return {"__tuple__": [_encode(v) for v in value]}
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise TypeError(f"checkpoint extra state: dict keys must be strings, got {bad[0]!r}")
        return {k: _encode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise TypeError(f"checkpoint extra state: cannot save a {type(value).__name__} (use numbers, strings, "
                    "lists, tuples, dicts with string keys and ndarrays)")


def _decode(value):
    if isinstance(value, dict):
        if "__ndarray__" in value:
            return np.array(value["__ndarray__"], dtype=np.dtype(value["dtype"])).reshape(value["shape"])
        if "__tuple__" in value:
            return tuple(_decode(v) for v in value["__tuple__"])
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def to_json_array(value) -> np.ndarray:
    """Encode ``value`` (numbers, strings, lists, tuples, dicts, ndarrays) as a 0-d text array."""
    return np.array(json.dumps(_encode(value), allow_nan=True))


def from_json_array(array: np.ndarray, path: str, key: str):
    """Decode what :func:`to_json_array` wrote."""
    try:
        return _decode(json.loads(str(array[()])))
    except (ValueError, TypeError) as error:
        raise CheckpointError(f"checkpoint {path!r}: entry {key!r} is not valid JSON ({error})") from None
