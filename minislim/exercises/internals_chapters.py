"""Plain-function exercises of notebooks 13-15: reading a varint of a TensorFlow checkpoint's
index (against ``minislim.checkpoint.protobuf``), a Hessian-vector product with
``slim.grad(create_graph=True)``, and one round of a ring all-reduce's reduce-scatter.

>>> from minislim import exercises
>>> exercises.check(lambda data, position: (data[position], position + 1), "read_varint",
...                 verbose=False).codes
['wrong']
"""
from __future__ import annotations

import numpy as np

from minislim.autograd.engine import grad
from minislim.autograd.tensor import tensor
from minislim.checkpoint.protobuf import encode_varint, read_varint
from minislim.exercises.functional import FunctionExercise, WrongImplementation
from minislim.exercises.registry import add
from minislim.losses.cross_entropy import sparse_softmax_cross_entropy
from minislim.ops.activations import tanh

# --- 13: a varint -----------------------------------------------------------------------------


def _varint_big_endian(data, position):
    value = 0
    while True:
        byte = data[position]
        position += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, position


def _varint_unmasked(data, position):
    value, shift = 0, 0
    while True:
        byte = data[position]
        position += 1
        value |= byte << shift
        if not byte & 0x80:
            return value, position
        shift += 7


def _varint_one_byte(data, position):
    return data[position] & 0x7F, position + 1


def _run_varints(implementation, case):
    """Read the varints of ``case`` one after the other, as a table's reader walks an entry."""
    data, count = case
    values, positions, position = [], [], 0
    for _ in range(count):
        value, position = implementation(data, position)
        values.append(value)
        positions.append(position)
    return {"values": np.array(values, dtype=np.float64), "positions after each": np.array(positions)}


def _varint_cases(rng):
    def case(values):
        return b"".join(encode_varint(v) for v in values), len(values)
    shape = [3, 3, 512, 4096]
    return [("the shape [3, 3, 512, 4096]", case(shape)),
            ("0 1 127 128 300 16384", case([0, 1, 127, 128, 300, 16384])),
            ("an offset of 9 GB", case([9_000_000_000, 5]))]


add(FunctionExercise(
    name="read_varint",
    title="Read a varint, the integers of a checkpoint's index",
    task=("read_varint(data: bytes, position) returns (value, the position after it). A varint\n"
          "stores an integer in groups of 7 bits, the lowest group first; each byte holds one\n"
          "group in its low 7 bits, and its top bit (0x80) is 1 when another byte follows."),
    function_name="read_varint",
    reference=read_varint,
    run=_run_varints,
    make_cases=_varint_cases,
    hint=("value |= (byte & 0x7F) << shift, with shift 0, 7, 14, ... for the bytes in order; stop "
          "after the first byte whose top bit is 0."),
    mistakes=(
        WrongImplementation("big_endian", _varint_big_endian,
                            "you put the first byte's group in the *highest* bits (value << 7 | group); "
                            "a varint is little-endian: the first byte holds the lowest 7 bits, the "
                            "next byte's group is shifted by 7, then 14, ..."),
        WrongImplementation("continuation_bit_kept", _varint_unmasked,
                            "you add each whole byte, continuation bit included; only its low 7 bits "
                            "(byte & 0x7F) belong to the value."),
        WrongImplementation("one_byte_only", _varint_one_byte,
                            "you read one byte per varint; a byte with its top bit set (0x80) says "
                            "that the next byte continues the same integer."),
    ),
))


# --- 14: a Hessian-vector product -------------------------------------------------------------


def _hvp(loss_fn, params, v):
    grads = grad(loss_fn(params), params, create_graph=True)
    dot = sum((g * tensor(d)).sum() for g, d in zip(grads, v))
    return [h.data for h in grad(dot, params)]


def _hvp_gradient_times_v(loss_fn, params, v):
    return [g.data * d for g, d in zip(grad(loss_fn(params), params), v)]


def _hvp_row_sums(loss_fn, params, v):
    grads = grad(loss_fn(params), params, create_graph=True)
    second = grad(sum(g.sum() for g in grads), params)
    return [h.data * d for h, d in zip(second, v)]


def _quadratic_case(rng):
    a = rng.standard_normal((4, 4))
    a = a @ a.T + np.eye(4)
    params = [tensor(rng.standard_normal((4, 1)), requires_grad=True)]

    def loss_fn(ps):
        return 0.5 * (ps[0] * (tensor(a) @ ps[0])).sum()
    return loss_fn, params, [rng.standard_normal((4, 1))]


def _mlp_case(rng):
    data, labels = rng.standard_normal((10, 3)), rng.integers(0, 3, 10)
    shapes = [(3, 5), (5,), (5, 3), (3,)]
    params = [tensor(rng.standard_normal(s) * 0.5, requires_grad=True) for s in shapes]

    def loss_fn(ps):
        hidden = tanh(tensor(data) @ ps[0] + ps[1])
        return sparse_softmax_cross_entropy(hidden @ ps[2] + ps[3], labels, loss_collection=None)
    return loss_fn, params, [rng.standard_normal(s) for s in shapes]


def _run_hvp(implementation, case):
    loss_fn, params, v = case
    fresh = [tensor(p.data.copy(), requires_grad=True) for p in params]
    products = implementation(loss_fn, fresh, [d.copy() for d in v])
    return {f"Hv for parameter {i}": np.asarray(getattr(h, "data", h)) for i, h in enumerate(products)}


add(FunctionExercise(
    name="hessian_vector_product",
    title="A Hessian-vector product: differentiate twice",
    task=("hessian_vector_product(loss_fn, params, v) returns H v as a list of arrays shaped like\n"
          "the params, H the Hessian of loss_fn(params) (a scalar Tensor) with respect to all the\n"
          "params and v a list of arrays like them. Without building H: H v is the gradient of\n"
          "sum_i (dL/dparams_i . v_i), so take the gradients with create_graph=True and\n"
          "differentiate their dot product with v once more."),
    function_name="hessian_vector_product",
    reference=_hvp,
    run=_run_hvp,
    make_cases=lambda rng: [("0.5 x'Ax with 4 parameters", _quadratic_case(rng)),
                            ("a small MLP's cross-entropy", _mlp_case(rng))],
    hint=("grads = slim.grad(loss, params, create_graph=True); dot = sum((g * d).sum() for g, d in "
          "zip(grads, v)); then slim.grad(dot, params)."),
    mistakes=(
        WrongImplementation("gradient_times_v", _hvp_gradient_times_v,
                            "your result is the gradient times v, elementwise: first-order only. H v "
                            "needs a second differentiation, of the gradient's dot product with v."),
        WrongImplementation("row_sums_times_v", _hvp_row_sums,
                            "you differentiate the *sum* of the gradient's entries and then multiply "
                            "by v: that is (H 1) * v, not H v. Put v inside: differentiate "
                            "sum(g * v), the dot product, once more."),
    ),
))


# --- 15: a round of the ring all-reduce's reduce-scatter ----------------------------------------


def _reduce_scatter_round(chunks, round_):
    n = len(chunks)
    messages = [(i, (i - round_) % n, chunks[i][(i - round_) % n].copy()) for i in range(n)]
    for i, c, payload in messages:          # every worker sends at once, then every one receives
        chunks[(i + 1) % n][c] = chunks[(i + 1) % n][c] + payload
    return chunks


def _reduce_scatter_to_the_left(chunks, round_):
    n = len(chunks)
    messages = [(i, (i - round_) % n, chunks[i][(i - round_) % n].copy()) for i in range(n)]
    for i, c, payload in messages:
        chunks[(i - 1) % n][c] = chunks[(i - 1) % n][c] + payload
    return chunks


def _reduce_scatter_overwrite(chunks, round_):
    n = len(chunks)
    messages = [(i, (i - round_) % n, chunks[i][(i - round_) % n].copy()) for i in range(n)]
    for i, c, payload in messages:
        chunks[(i + 1) % n][c] = payload
    return chunks


def _reduce_scatter_wrong_chunk(chunks, round_):
    n = len(chunks)
    messages = [(i, (i + round_) % n, chunks[i][(i + round_) % n].copy()) for i in range(n)]
    for i, c, payload in messages:
        chunks[(i + 1) % n][c] = chunks[(i + 1) % n][c] + payload
    return chunks


def _run_reduce_scatter(implementation, case):
    """All N - 1 rounds of the reduce-scatter, then each worker's buffer."""
    buffers = case
    n = len(buffers)
    chunks = [np.array_split(b.copy(), n) for b in buffers]
    for round_ in range(n - 1):
        chunks = implementation(chunks, round_)
    return {"each worker's chunks after the reduce-scatter": np.stack([np.concatenate(c) for c in chunks])}


add(FunctionExercise(
    name="reduce_scatter_round",
    title="One round of the ring all-reduce's reduce-scatter",
    task=("reduce_scatter_round(chunks, round_) does round `round_` (0, 1, ..., N - 2) of the\n"
          "reduce-scatter: chunks[i][c] is worker i's chunk c, N workers on a ring. Every worker i\n"
          "sends its chunk (i - round_) mod N to its right neighbour (i + 1) mod N, which adds it to\n"
          "its own chunk of that index. Return the chunks (changed in place or new)."),
    function_name="reduce_scatter_round",
    reference=_reduce_scatter_round,
    run=_run_reduce_scatter,
    make_cases=lambda rng: [("3 workers of 7 numbers", [rng.standard_normal(7) for _ in range(3)]),
                            ("5 workers of 10 numbers", [rng.standard_normal(10) for _ in range(5)])],
    hint=("for each worker i: c = (i - round_) % N, then chunks[(i + 1) % N][c] += chunks[i][c]; "
          "after round r, worker i's chunk (i - r - 1) % N holds r + 2 workers' sum."),
    mistakes=(
        WrongImplementation("sends_left", _reduce_scatter_to_the_left,
                            "your workers send to their *left* neighbour (i - 1); on this ring they send "
                            "to the right, (i + 1) mod N, so that the chunk a worker sends is the one it "
                            "received (and added to) in the previous round."),
        WrongImplementation("overwrites", _reduce_scatter_overwrite,
                            "the receiver replaces its chunk with the message (=); it must *add* it "
                            "(+=), so the chunk accumulates the sum around the ring."),
        WrongImplementation("wrong_chunk", _reduce_scatter_wrong_chunk,
                            "worker i sends chunk (i + round_) mod N; it must send (i - round_) mod N, "
                            "the chunk it received (and added to) in the previous round, so the "
                            "partial sums travel on around the ring."),
    ),
))
