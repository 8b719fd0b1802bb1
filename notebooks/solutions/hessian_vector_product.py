"""Solution of the ``hessian_vector_product`` exercise (notebook 14): H v = grad(grad L . v).

Run it to see the checker's verdict: ``python notebooks/solutions/hessian_vector_product.py``.
"""
import minislim as slim


def hessian_vector_product(loss_fn, params, v):
    grads = slim.grad(loss_fn(params), params, create_graph=True)
    dot = sum((g * slim.tensor(d)).sum() for g, d in zip(grads, v))   # a scalar, still on the graph
    return [h.data for h in slim.grad(dot, params)]


if __name__ == "__main__":
    from minislim.exercises import check

    check(hessian_vector_product, "hessian_vector_product")
