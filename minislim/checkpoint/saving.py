"""Save and restore variables, optimizer slots, the global step and extra state.

``save`` writes one ``.npz`` (see :mod:`minislim.checkpoint.format` for the keys);
``restore`` checks the *whole* file against the variables before assigning anything, and
its error lists every missing, unexpected, mis-shaped and mis-typed entry at once;
``assign_from_checkpoint_fn`` restores a subset (fine-tuning), ignoring entries the
variables do not ask for.

>>> import os, tempfile
>>> import minislim as slim
>>> w = slim.tensor([1.0, 2.0])
>>> w.name = "fc/weights"
>>> path = save(os.path.join(tempfile.mkdtemp(), "model.ckpt-7"), [w], global_step=7)
>>> list_variables(path)
[('fc/weights', (2,)), ('global_step', ())]
>>> w.data[:] = 0
>>> restore(path, [w]).global_step, w.data.tolist()
(7, [1.0, 2.0])
"""
from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass, field

import numpy as np

from minislim.checkpoint import tensorflow as tf_format
from minislim.checkpoint.format import (EXTRA_KEY, FORMAT_VERSION, GLOBAL_STEP_KEY, META_KEYS,
                                        OPTIMIZER_KEY, VERSION_KEY, CheckpointError, from_json_array,
                                        read_npz, to_json_array, write_npz)

CHECKPOINT_PREFIX = "model.ckpt"
_CHECKPOINT_NAME = re.compile(r"^(?P<prefix>.+)-(?P<step>\d+)\.npz$")


# --- which variables -------------------------------------------------------------------------

def variables_by_name(variables, what: str = "variables") -> dict:
    """Normalise ``variables`` to ``{checkpoint name: variable}``.

    ``None`` means every variable of the default graph; a list is keyed by each
    variable's ``.name``; a dict (checkpoint name -> variable) renames, as TF's Saver does.
    """
    if variables is None:
        from minislim.framework.variables import get_variables

        variables = list(get_variables())
    if isinstance(variables, dict):
        return dict(variables)
    mapping = {}
    for var in variables:
        name = getattr(var, "name", None)
        if not name:
            raise ValueError(f"{what}: every variable needs a name, got an unnamed tensor of shape {var.shape}")
        if name in mapping and mapping[name] is not var:
            raise ValueError(f"{what}: two different variables are named {name!r}")
        mapping[name] = var
    return mapping


def _step_value(global_step):
    if global_step is None:
        return None
    return int(np.asarray(getattr(global_step, "data", global_step)))


def _with_suffix(path: str) -> str:
    path = os.fspath(path)
    return path if path.endswith(".npz") else path + ".npz"


def resolve_path(path: str) -> str:
    """``path`` itself, ``path + ".npz"``, or the newest checkpoint if ``path`` is a directory.

    A TensorFlow checkpoint resolves to its prefix (``model.ckpt-1000`` for
    ``model.ckpt-1000.index``); a directory without ``.npz`` checkpoints to the one its
    TensorFlow ``checkpoint`` file names.
    """
    path = os.fspath(path)
    prefix = tf_format.find(path)
    if prefix is not None and not (os.path.isdir(path) and latest_checkpoint(path)):
        return prefix
    if os.path.isdir(path):
        latest = latest_checkpoint(path)
        if latest is None:
            raise CheckpointError(f"no checkpoint (model.ckpt-<step>.npz) in directory {path!r}")
        return latest
    if not os.path.exists(path) and os.path.exists(path + ".npz"):
        return path + ".npz"
    return path


# --- save ---------------------------------------------------------------------------------------

def save(path: str, variables=None, optimizer=None, global_step=None, extra: dict | None = None) -> str:
    """Write a checkpoint atomically; return its path (``.npz`` is appended if missing).

    Args:
        path: the file, e.g. ``logdir/model.ckpt-1000``.
        variables: a list of variables, a dict ``{checkpoint name: variable}``, or None
            for every variable of the default graph.
        optimizer: also save its slots (as ``<variable>/<slot>``) and update count.
        global_step: an int or a scalar variable, saved as ``global_step``.
        extra: more state to keep: numbers, strings, lists, tuples, dicts with string
            keys, ndarrays (stored as JSON; e.g. RNG states, the input position).

    Raises:
        CheckpointError: two entries would have the same key.
    """
    path = _with_suffix(path)
    mapping = variables_by_name(variables, "save")
    arrays = {VERSION_KEY: np.asarray(FORMAT_VERSION, dtype=np.int64)}
    for name, var in mapping.items():
        if name in META_KEYS:
            raise CheckpointError(f"save {path!r}: variable name {name!r} is reserved")
        arrays[name] = np.asarray(var.data)
    if global_step is not None:
        arrays[GLOBAL_STEP_KEY] = np.asarray(_step_value(global_step), dtype=np.int64)
    if optimizer is not None:
        state = optimizer.state_dict()
        checkpoint_name = {id(v): n for n, v in mapping.items()}
        owners = {v.name: v for v in optimizer.variables()}
        slot_keys = {}
        for var_name, slots in state["slots"].items():
            owner = owners.get(var_name)
            base = checkpoint_name.get(id(owner), var_name)
            for slot, value in slots.items():
                key = f"{base}/{slot}"
                if key in arrays:
                    raise CheckpointError(f"save {path!r}: slot {key!r} has the same key as a variable")
                arrays[key] = value
                slot_keys[key] = [base, slot]
        arrays[OPTIMIZER_KEY] = to_json_array({"class": state["class"], "iterations": state["iterations"],
                                               "slots": slot_keys})
    if extra is not None:
        arrays[EXTRA_KEY] = to_json_array(dict(extra))
    return write_npz(path, arrays)


# --- reading a checkpoint -------------------------------------------------------------------------

@dataclass
class CheckpointContents:
    """What a checkpoint file holds, split by role."""

    path: str
    version: int
    variables: dict                     # name -> ndarray
    slots: dict                         # key -> (variable name, slot name, ndarray)
    optimizer: dict | None              # {"class", "iterations"} or None
    global_step: int | None
    extra: dict = field(default_factory=dict)


def read(path: str) -> CheckpointContents:
    """Read and sort a checkpoint's entries (no assignment). Raises CheckpointError."""
    path = resolve_path(path)
    if tf_format.find(path) == path:
        arrays = tf_format.read_all(path)
        global_step = int(arrays[GLOBAL_STEP_KEY]) if arrays.get(GLOBAL_STEP_KEY, np.zeros(2)).size == 1 else None
        return CheckpointContents(path, 0, arrays, {}, None, global_step, {})
    arrays = read_npz(path)
    version = 0
    if VERSION_KEY in arrays:
        version = int(arrays.pop(VERSION_KEY))
        if version > FORMAT_VERSION:
            raise CheckpointError(f"checkpoint {path!r} has format version {version}; this minislim reads "
                                  f"versions up to {FORMAT_VERSION} (upgrade minislim)")
    optimizer, slots = None, {}
    if OPTIMIZER_KEY in arrays:
        meta = from_json_array(arrays.pop(OPTIMIZER_KEY), path, OPTIMIZER_KEY)
        optimizer = {"class": meta["class"], "iterations": int(meta["iterations"])}
        for key, (var_name, slot) in meta["slots"].items():
            if key not in arrays:
                raise CheckpointError(f"checkpoint {path!r}: slot entry {key!r} is listed but absent")
            slots[key] = (var_name, slot, arrays.pop(key))
    extra = from_json_array(arrays.pop(EXTRA_KEY), path, EXTRA_KEY) if EXTRA_KEY in arrays else {}
    global_step = int(arrays[GLOBAL_STEP_KEY]) if GLOBAL_STEP_KEY in arrays else None
    return CheckpointContents(path, version, arrays, slots, optimizer, global_step, extra)


def list_variables(path: str) -> list:
    """``[(name, shape), ...]`` of every array in the checkpoint, sorted by name.

    For a TensorFlow checkpoint only its index is read.
    """
    resolved = resolve_path(path)
    if tf_format.find(resolved) == resolved:
        return sorted(tf_format.open_checkpoint(resolved).shapes().items())
    contents = read(path)
    entries = {name: value.shape for name, value in contents.variables.items()}
    entries.update({key: value.shape for key, (_, _, value) in contents.slots.items()})
    return sorted(entries.items())


def load_variable(path: str, name: str) -> np.ndarray:
    """The value saved under ``name`` (a variable, a slot or ``global_step``)."""
    resolved = resolve_path(path)
    if tf_format.find(resolved) == resolved:
        return tf_format.open_checkpoint(resolved).read(name)
    contents = read(path)
    if name in contents.variables:
        return contents.variables[name]
    if name in contents.slots:
        return contents.slots[name][2]
    raise CheckpointError(f"checkpoint {contents.path!r} has no entry {name!r}; it has "
                          f"{sorted(contents.variables)[:10]}{' ...' if len(contents.variables) > 10 else ''}")


# --- matching a checkpoint against variables ---------------------------------------------------------

def _describe(shape, dtype) -> str:
    return f"{list(shape)} {np.dtype(dtype).name}"


@dataclass
class RestorePlan:
    """How a checkpoint's entries line up with a set of variables."""

    path: str
    matched: list       # names restorable as they are
    missing: list       # variables without an entry
    unexpected: list    # entries without a variable
    shape_mismatch: list  # (name, checkpoint shape, variable shape)
    dtype_mismatch: list  # (name, checkpoint dtype, variable dtype)
    slot_problems: list   # lines of text


def plan(contents: CheckpointContents, mapping: dict, optimizer=None) -> RestorePlan:
    """Compare every entry with every variable (and the optimizer's slots)."""
    matched, missing, shape_mismatch, dtype_mismatch = [], [], [], []
    for name, var in mapping.items():
        if name not in contents.variables:
            missing.append(name)
            continue
        value = contents.variables[name]
        if value.shape != tuple(var.shape):
            shape_mismatch.append((name, value.shape, tuple(var.shape)))
        elif value.dtype != var.dtype:
            dtype_mismatch.append((name, value.dtype, var.dtype))
        else:
            matched.append(name)
    unexpected = sorted(n for n in contents.variables if n not in mapping and n != GLOBAL_STEP_KEY)
    slot_problems = []
    if optimizer is not None:
        slot_problems = _slot_problems(contents, mapping, optimizer)
    return RestorePlan(contents.path, matched, missing, unexpected, shape_mismatch, dtype_mismatch, slot_problems)


def _slot_problems(contents: CheckpointContents, mapping: dict, optimizer) -> list:
    problems = []
    kind = type(optimizer).__name__
    if contents.optimizer is None:
        return [f"the checkpoint holds no optimizer state, but a {kind} optimizer was given to restore"]
    if contents.optimizer["class"] != kind:
        problems.append(f"the checkpoint's optimizer is {contents.optimizer['class']}, the given one is {kind}")
    wanted = set(optimizer.get_slot_names())
    have = {}
    for key, (var_name, slot, value) in contents.slots.items():
        have.setdefault(var_name, set()).add(slot)
        if var_name not in mapping:
            problems.append(f"slot {key!r}: no such variable")
        elif slot not in wanted:
            problems.append(f"slot {key!r}: {kind} keeps no slot {slot!r} (it keeps {sorted(wanted)})")
        elif value.shape != tuple(mapping[var_name].shape):
            problems.append(f"slot {key!r}: shape {list(value.shape)} in the checkpoint, "
                            f"the variable is {list(mapping[var_name].shape)}")
        elif value.dtype != mapping[var_name].dtype:
            problems.append(f"slot {key!r}: dtype {value.dtype} in the checkpoint, the variable is "
                            f"{mapping[var_name].dtype}")
    checkpoint_name = {id(v): n for n, v in mapping.items()}
    needing = {checkpoint_name[id(v)] for v in optimizer.variables() if id(v) in checkpoint_name}
    needing |= set(have)
    for var_name in sorted(needing):
        absent = wanted - have.get(var_name, set())
        if var_name in mapping and absent:
            problems.append(f"slots missing for {var_name!r}: {sorted(absent)}")
    return problems


def _error_text(p: RestorePlan, strict: bool) -> str | None:
    lines = []
    if p.missing:
        lines.append(f"  missing from the checkpoint ({len(p.missing)}):")
        lines += [f"    {name}" for name in p.missing]
    if strict and p.unexpected:
        lines.append(f"  unexpected in the checkpoint, no variable has these names ({len(p.unexpected)}):")
        lines += [f"    {name}" for name in p.unexpected]
    if p.shape_mismatch:
        lines.append(f"  shape mismatch ({len(p.shape_mismatch)}):")
        lines += [f"    {n}: checkpoint {list(c)}, variable {list(v)}" for n, c, v in p.shape_mismatch]
    if p.dtype_mismatch:
        lines.append(f"  dtype mismatch ({len(p.dtype_mismatch)}):")
        lines += [f"    {n}: checkpoint {np.dtype(c).name}, variable {np.dtype(v).name}" for n, c, v in p.dtype_mismatch]
    if p.slot_problems:
        lines.append(f"  optimizer state ({len(p.slot_problems)}):")
        lines += [f"    {text}" for text in p.slot_problems]
    if not lines:
        return None
    return (f"cannot restore checkpoint {p.path!r}; nothing was assigned:\n" + "\n".join(lines) +
            "\n  slim.checkpoint.diff(path, variables) shows what a restore would do and suggests "
            "include/exclude scopes; assign_from_checkpoint_fn(path, var_list) restores a subset.")


# --- restore --------------------------------------------------------------------------------------------

@dataclass
class RestoreResult:
    """What ``restore`` did: the file, its global step and extra state, the names assigned."""

    path: str
    global_step: int | None
    extra: dict
    restored: list


def _assign(var, value: np.ndarray) -> None:
    assign = getattr(var, "assign", None)
    if assign is not None:
        assign(value.copy())
    else:
        var.data = value.copy()


def restore(path: str, variables=None, optimizer=None, strict: bool = True) -> RestoreResult:
    """Check every entry of the checkpoint against the variables, then assign them all.

    Args:
        path: a checkpoint file (``.npz`` may be left out) or a directory (its newest).
        variables: a list, a dict ``{checkpoint name: variable}``, or None for every
            variable of the default graph.
        optimizer: also restore its slots and update count.
        strict: entries that no variable asks for are errors too (else ignored).

    Returns:
        a :class:`RestoreResult` (``global_step``, ``extra``, ``restored`` names).

    Raises:
        CheckpointError: the file cannot be read, or any entry does not fit; the message
            lists every problem and nothing is assigned.
    """
    contents = read(path)
    mapping = variables_by_name(variables, "restore")
    p = plan(contents, mapping, optimizer)
    message = _error_text(p, strict)
    if message:
        raise CheckpointError(message)
    for name in p.matched:
        _assign(mapping[name], contents.variables[name])
    if optimizer is not None:
        slots = {}
        for var_name, slot, value in contents.slots.values():
            slots.setdefault(mapping[var_name].name, {})[slot] = value
        by_own_name = {var.name: var for var in mapping.values()}
        optimizer.load_state_dict({"iterations": contents.optimizer["iterations"], "slots": slots}, by_own_name)
    return RestoreResult(contents.path, contents.global_step, contents.extra, list(p.matched))


def assign_from_checkpoint_fn(model_path: str, var_list, ignore_missing_vars: bool = False):
    """Return a function of no arguments that restores ``var_list`` from ``model_path``.

    This is what ``train(init_fn=...)`` calls to warm-start (fine-tune) a model. Entries of
    the checkpoint that ``var_list`` does not name are ignored; the file is checked now,
    so a mismatch is reported before training starts.

    Args:
        model_path: a checkpoint file, or a directory (its newest checkpoint).
        var_list: a list of variables or a dict ``{checkpoint name: variable}``, e.g. from
            ``slim.get_variables_to_restore(exclude=["vgg_16/fc8"])``.
        ignore_missing_vars: skip (with a warning) variables the checkpoint lacks instead
            of raising.

    Raises:
        CheckpointError: a variable is missing (unless ignored) or has another shape or
            dtype in the checkpoint; ``var_list`` is empty.
    """
    mapping = variables_by_name(var_list, "assign_from_checkpoint_fn")
    if not mapping:
        raise CheckpointError("assign_from_checkpoint_fn: var_list is empty (did an include/exclude "
                              "pattern match no variable?)")
    path = resolve_path(model_path)
    p = plan(read(path), mapping)
    if ignore_missing_vars and p.missing:
        warnings.warn(f"assign_from_checkpoint_fn: {len(p.missing)} variable(s) missing in {path!r} are left "
                      f"as initialised: {p.missing}", stacklevel=2)
        mapping = {n: v for n, v in mapping.items() if n not in p.missing}
        p.missing = []
    message = _error_text(p, strict=False)
    if message:
        raise CheckpointError(message)

    def init_fn() -> RestoreResult:
        return restore(path, mapping, strict=False)

    init_fn.checkpoint_path = path
    init_fn.__doc__ = f"Restore {len(mapping)} variable(s) from {path!r}."
    return init_fn


# --- files in a log directory --------------------------------------------------------------------

def checkpoint_path(logdir: str, global_step: int, prefix: str = CHECKPOINT_PREFIX) -> str:
    """``<logdir>/<prefix>-<global_step>.npz``."""
    return os.path.join(os.fspath(logdir), f"{prefix}-{int(global_step)}.npz")


def all_checkpoints(logdir: str, prefix: str = CHECKPOINT_PREFIX) -> list:
    """Checkpoint files in ``logdir`` as ``[(step, path), ...]``, oldest first.

    Only regular files count: a directory named like a checkpoint is skipped.
    """
    logdir = os.fspath(logdir)
    if not os.path.isdir(logdir):
        return []
    found = []
    for entry in os.listdir(logdir):
        match = _CHECKPOINT_NAME.match(entry)
        path = os.path.join(logdir, entry)
        # only files: a directory (or a dangling link) named like a checkpoint is not one
        if match and match.group("prefix") == prefix and os.path.isfile(path):
            found.append((int(match.group("step")), path))
    return sorted(found)


def remove_temporaries(logdir: str, prefix: str = CHECKPOINT_PREFIX) -> list:
    """Delete the temporary files that interrupted saves left in ``logdir``; return their paths.

    Call it only when no other process is saving into ``logdir``.
    """
    logdir = os.fspath(logdir)
    if not os.path.isdir(logdir):
        return []
    pattern = re.compile(r"^\." + re.escape(prefix) + r"-\d+\.npz\..+\.tmp$")
    removed = [os.path.join(logdir, entry) for entry in os.listdir(logdir) if pattern.match(entry)]
    for path in removed:
        try:
            os.remove(path)
        except FileNotFoundError:  # gone meanwhile
            pass
    return removed


def latest_checkpoint(logdir: str, prefix: str = CHECKPOINT_PREFIX) -> str | None:
    """The checkpoint with the highest step in ``logdir``, or None.

    Only complete files carry the final name (writes are atomic); leftover temporary
    files of an interrupted save start with a dot and are ignored.
    """
    found = all_checkpoints(logdir, prefix)
    return found[-1][1] if found else None
