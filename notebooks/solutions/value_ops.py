"""Solution of the ``value_ops`` exercise (notebook 01): three ops for the scalar ``Value``.

``Value`` is notebook 01's class; here it comes from ``minislim.exercises.value_engine``
(the same code). Run it to see the checker's verdict: ``python notebooks/solutions/value_ops.py``.
"""
import math

from minislim.exercises.value_engine import BaseValue as Value


class MyValue(Value):
    def __pow__(self, n):
        out = MyValue(self.data ** n, (self,))

        def _backward():
            self.grad += n * self.data ** (n - 1) * out.grad
        out._backward = _backward
        return out

    def exp(self):
        out = MyValue(math.exp(self.data), (self,))

        def _backward():
            self.grad += out.data * out.grad      # exp' = exp: the output itself
        out._backward = _backward
        return out

    def relu(self):
        out = MyValue(max(self.data, 0.0), (self,))

        def _backward():
            self.grad += (self.data > 0) * out.grad
        out._backward = _backward
        return out


if __name__ == "__main__":
    from minislim.exercises import check

    check(MyValue, "value_ops")
