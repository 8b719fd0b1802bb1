"""Solution of the ``reduce_scatter_round`` exercise (notebook 15): each worker passes one chunk right.

Run it to see the checker's verdict: ``python notebooks/solutions/reduce_scatter_round.py``.
"""


def reduce_scatter_round(chunks, round_):
    n = len(chunks)
    for i in range(n):
        c = (i - round_) % n                  # the chunk worker i received last round (its own in round 0)
        chunks[(i + 1) % n][c] = chunks[(i + 1) % n][c] + chunks[i][c]
    return chunks


if __name__ == "__main__":
    from minislim.exercises import check

    check(reduce_scatter_round, "reduce_scatter_round")
