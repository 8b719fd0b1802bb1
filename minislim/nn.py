"""``slim.nn``: the functional ops (the analogue of ``tf.nn``).

>>> import minislim as slim
>>> slim.nn.add(slim.tensor([1.0]), slim.tensor([2.0])).data.tolist()
[3.0]
"""
from minislim.ops.arithmetic import add, divide, matmul, multiply, negative, power, subtract

__all__ = ["add", "subtract", "multiply", "divide", "negative", "power", "matmul"]
