"""The input pipeline: seeded, shuffled, augmented mini-batches that can resume exactly.

``batches(images, labels, batch_size=64)`` returns a :class:`Batches` object. Each
``for`` loop over it runs (the rest of) one epoch and yields tuples of arrays;
``len()`` is the number of batches in an epoch. It keeps its position (epoch, batch), and
:meth:`Batches.state_dict` / :meth:`Batches.load_state_dict` save and restore it, so a
training run resumed from a checkpoint sees exactly the batches it would have seen.

Randomness is *counter based*: the order of epoch ``e`` comes from a generator seeded
with ``(seed, e)``, and the augmentation of batch ``b`` of epoch ``e`` from one seeded with
``(seed, e, b)`` (``numpy.random.SeedSequence`` spawn keys). A batch is therefore a pure
function of ``(seed, epoch, batch)``: restoring the position restores every random
draw, and a background prefetch thread gives the same batches as none.

>>> import numpy as np
>>> x = np.arange(10)
>>> pipe = batches(x, batch_size=4, seed=0)
>>> len(pipe)
3
>>> [b.tolist() for (b,) in pipe]               # epoch 0
[[1, 7, 9, 0], [6, 4, 5, 8], [2, 3]]
>>> pipe.epoch
1
>>> it = iter(pipe)
>>> first = next(it)                             # epoch 1, batch 0 handed out
>>> state = pipe.state_dict()
>>> state["epoch"], state["batch"]
(1, 1)
>>> resumed = batches(x, batch_size=4, seed=0)
>>> resumed.load_state_dict(state)
>>> [b.tolist() for (b,) in resumed] == [b.tolist() for (b,) in it]
True
"""
from __future__ import annotations

from typing import Callable, Dict, Iterator, Optional, Tuple

import numpy as np

from minislim.data.prefetch import Prefetcher
from minislim.parallel.data_parallel import shard_bounds

Transform = Callable[[np.ndarray, np.random.Generator], np.ndarray]

# Spawn-key tags keep the shuffle and augmentation streams apart.
_SHUFFLE, _AUGMENT = 0, 1
# Keys of state_dict(): all plain ints, so the state fits an .npz or JSON as it is.
STATE_KEYS = ("epoch", "batch", "seed", "num_examples", "batch_size", "shuffle",
              "drop_remainder")


def batches(*arrays: np.ndarray, batch_size: int, shuffle: bool = True, seed: int = 0,
            augment: Optional[Transform] = None, drop_remainder: bool = False,
            prefetch: int = 0, communicator=None) -> "Batches":
    """Return a re-iterable pipeline of mini-batches over ``arrays``.

    Args:
        *arrays: one or more arrays with the same first dimension, such as images
            ``[N, H, W, C]`` and labels ``[N]``. Each batch is a tuple with one slice
            of each, in this order.
        batch_size: examples per batch.
        shuffle: draw a new order for every epoch (otherwise keep the arrays' order).
        seed: a non-negative int; with the position it fixes every random choice.
        augment: a transform ``(batch, rng) -> batch`` (see :mod:`minislim.data.augment`)
            applied to the *first* array of each batch only; for example
            ``Compose([RandomCrop(32, padding=4), RandomFlip(), Normalize(mean, std)])``.
        drop_remainder: drop the last, smaller batch of each epoch.
        prefetch: how many batches a background thread prepares ahead (0: no thread).
        communicator: data-parallel training (:mod:`minislim.parallel`): ``batch_size``
            is then the *global* batch, and this process receives its shard of each one
            (rank r of n takes the r-th of n consecutive, near-equal slices), so n processes
            together see exactly the batches, augmentation included, of one process with
            the whole batch. The state (:meth:`Batches.state_dict`) counts global batches,
            so a run resumes with any number of processes.

    Returns:
        A :class:`Batches` pipeline.
    """
    return Batches(arrays, batch_size=batch_size, shuffle=shuffle, seed=seed,
                   augment=augment, drop_remainder=drop_remainder, prefetch=prefetch,
                   communicator=communicator)


class Batches:
    """Mini-batches over arrays, one epoch per iteration; see :func:`batches`.

    Attributes:
        arrays: the arrays batched (not copied).
        batch_size, shuffle, seed, augment, drop_remainder, prefetch: as given.
        epoch: the epoch the next batch belongs to.
        batch: the index, within that epoch, of the next batch.

    Only one iteration may be active at a time: starting a new ``for`` loop or loading
    a state makes an older, unfinished iterator raise ``RuntimeError`` when used again.
    """

    def __init__(self, arrays, *, batch_size: int, shuffle: bool = True, seed: int = 0,
                 augment: Optional[Transform] = None, drop_remainder: bool = False,
                 prefetch: int = 0, communicator=None):
        if not arrays:
            raise ValueError("batches: give at least one array")
        self.arrays = tuple(np.asarray(a) for a in arrays)
        sizes = [a.shape[0] if a.ndim else None for a in self.arrays]
        if None in sizes or len(set(sizes)) != 1:
            raise ValueError(f"batches: every array needs the same first dimension, "
                             f"got shapes {[a.shape for a in self.arrays]}")
        self.num_examples = sizes[0]
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
                or batch_size <= 0:
            raise ValueError(f"batches: batch_size must be a positive int, got {batch_size!r}")
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"batches: seed must be a non-negative int, got {seed!r}")
        if isinstance(prefetch, bool) or not isinstance(prefetch, (int, np.integer)) \
                or prefetch < 0:
            raise ValueError(f"batches: prefetch must be an int >= 0, got {prefetch!r}")
        if augment is not None and not callable(augment):
            raise TypeError(f"batches: augment must be callable (batch, rng) -> batch, "
                            f"got {augment!r}")
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.seed = int(seed)
        self.augment = augment
        self.drop_remainder = bool(drop_remainder)
        self.prefetch = int(prefetch)
        if self.num_examples == 0:
            raise ValueError("batches: the arrays hold 0 examples: nothing to batch")
        if len(self) == 0:
            raise ValueError(f"batches: {self.num_examples} examples give no batch of "
                             f"{self.batch_size} with drop_remainder=True")
        self.communicator = communicator
        self._check_shards()
        self.epoch = 0
        self.batch = 0
        self._token = 0          # identifies the active iteration
        self._order_cache = (None, None)

    # ------------------------------------------------------------------ size and order

    def __len__(self) -> int:
        """Batches per epoch."""
        if self.drop_remainder:
            return self.num_examples // self.batch_size
        return -(-self.num_examples // self.batch_size)

    def order(self, epoch: int) -> np.ndarray:
        """The example indices of ``epoch`` in the order they are served."""
        if not self.shuffle:
            return np.arange(self.num_examples)
        cached_epoch, cached = self._order_cache
        if cached_epoch != epoch:
            rng = _generator(self.seed, _SHUFFLE, epoch)
            cached = rng.permutation(self.num_examples)
            self._order_cache = (epoch, cached)
        return cached

    def get_batch(self, epoch: int, index: int, order: Optional[np.ndarray] = None
                  ) -> Tuple[np.ndarray, ...]:
        """Compute batch ``index`` of ``epoch``: a pure function of seed, epoch and index.

        Does not move the pipeline's position.
        """
        if not 0 <= index < len(self):
            raise IndexError(f"batches: batch index {index} outside 0..{len(self) - 1}")
        order = self.order(epoch) if order is None else order
        chosen = order[index * self.batch_size:(index + 1) * self.batch_size]
        shard = self._shard(len(chosen))
        if shard is not None and self.augment is None:
            chosen = chosen[shard]  # this process's rows only
        out = [np.take(a, chosen, axis=0) for a in self.arrays]
        if self.augment is not None:
            # the whole global batch is augmented, with its one generator, then sliced: each
            # example gets the crop and flip it gets in a one-process run
            out[0] = self.augment(out[0], _generator(self.seed, _AUGMENT, epoch, index))
            if shard is not None:
                out = [a[shard] for a in out]
        return tuple(out)

    # ------------------------------------------------------------------ data parallelism

    def _shard(self, rows: int) -> Optional[slice]:
        """The slice of a global batch of ``rows`` that this process takes (None: all of it)."""
        comm = self.communicator
        if comm is None or comm.size == 1:
            return None
        return slice(*shard_bounds(rows, comm.rank, comm.size))

    def _check_shards(self) -> None:
        comm = self.communicator
        if comm is None:
            return
        if not (hasattr(comm, "rank") and hasattr(comm, "size")):
            raise TypeError(f"batches: communicator must be a slim.parallel communicator, got {comm!r}")
        smallest = self.batch_size
        if not self.drop_remainder and self.num_examples % self.batch_size:
            smallest = self.num_examples % self.batch_size
        if smallest < comm.size:
            raise ValueError(f"batches: a batch of {smallest} examples cannot be split among {comm.size} "
                             f"processes (batch_size={self.batch_size} is the global batch, "
                             f"{self.num_examples} examples); use a larger batch_size"
                             f"{'' if self.drop_remainder else ' or drop_remainder=True'}")

    # ------------------------------------------------------------------ iteration

    def __iter__(self) -> Iterator[Tuple[np.ndarray, ...]]:
        self._token += 1
        return self._epoch_iterator(self._token)

    def _epoch_iterator(self, token: int):
        epoch, start, count = self.epoch, self.batch, len(self)
        order = self.order(epoch)
        indices = range(start, count)
        if self.prefetch:
            source = Prefetcher(lambda i: self.get_batch(epoch, i, order), indices,
                                depth=self.prefetch)
            items = iter(source)
        else:
            source = None
            items = (self.get_batch(epoch, i, order) for i in indices)
        try:
            for index, item in zip(indices, items):
                if token != self._token:
                    raise RuntimeError("batches: this iterator was superseded by a newer "
                                       "iteration or load_state_dict; start a new loop")
                # The position counts batches handed to the consumer, not prefetched ones.
                if index + 1 == count:
                    self.epoch, self.batch = epoch + 1, 0
                else:
                    self.epoch, self.batch = epoch, index + 1
                yield item
        finally:
            if source is not None:
                source.close()

    # ------------------------------------------------------------------ state

    def state_dict(self) -> Dict[str, int]:
        """Return the position and everything that fixes the batches, as plain ints.

        Keys (:data:`STATE_KEYS`): ``epoch`` and ``batch`` (the next batch to hand out),
        ``seed`` (with the position, it determines every random draw), and
        ``num_examples``, ``batch_size``, ``shuffle``, ``drop_remainder`` (checked on
        load). The values are ints, so the dict can be stored in an ``.npz`` file
        (``allow_pickle=False``) or JSON as it is.
        """
        return {"epoch": self.epoch, "batch": self.batch, "seed": self.seed,
                "num_examples": self.num_examples, "batch_size": self.batch_size,
                "shuffle": int(self.shuffle), "drop_remainder": int(self.drop_remainder)}

    def load_state_dict(self, state: Dict[str, object]) -> None:
        """Restore a position saved by :meth:`state_dict`.

        Values may be ints or 0-d arrays (as read back from an ``.npz``). The seed is
        taken from the state. The next iteration continues from the saved batch.

        Raises:
            ValueError: a key is missing, or the state belongs to a pipeline with another
                number of examples, batch size, shuffle or drop_remainder.
        """
        missing = [k for k in STATE_KEYS if k not in state]
        if missing:
            raise ValueError(f"batches.load_state_dict: missing keys {missing}")
        values = {k: int(np.asarray(state[k])) for k in STATE_KEYS}
        mine = self.state_dict()
        for key in ("num_examples", "batch_size", "shuffle", "drop_remainder"):
            if values[key] != mine[key]:
                raise ValueError(f"batches.load_state_dict: the state has {key}="
                                 f"{values[key]}, this pipeline has {mine[key]}")
        if values["epoch"] < 0 or not 0 <= values["batch"] < len(self) or values["seed"] < 0:
            raise ValueError(f"batches.load_state_dict: bad position epoch={values['epoch']}"
                             f" batch={values['batch']} seed={values['seed']} "
                             f"({len(self)} batches per epoch)")
        self.seed = values["seed"]
        self.epoch, self.batch = values["epoch"], values["batch"]
        self._order_cache = (None, None)
        self._token += 1

    def __repr__(self) -> str:
        shapes = ", ".join(str(a.shape) for a in self.arrays)
        return (f"Batches({shapes}, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"seed={self.seed}, augment={self.augment!r}, epoch={self.epoch}, "
                f"batch={self.batch})")


def _generator(seed: int, *key: int) -> np.random.Generator:
    """A generator for one stream: ``seed`` spawned with the key (tag, epoch[, batch])."""
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))
