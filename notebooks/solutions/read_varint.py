"""Solution of the ``read_varint`` exercise (notebook 13): 7 bits a byte, lowest group first.

Run it to see the checker's verdict: ``python notebooks/solutions/read_varint.py``.
"""


def read_varint(data, position):
    value, shift = 0, 0
    while True:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift       # the low 7 bits, in their place
        if not byte & 0x80:                   # top bit 0: the last byte
            return value, position
        shift += 7


if __name__ == "__main__":
    from minislim.exercises import check

    check(read_varint, "read_varint")
