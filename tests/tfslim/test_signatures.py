"""TF-Slim's names, arguments and defaults: every function the names table marks supported
takes tf_slim's arguments in tf_slim's order with tf_slim's defaults (inspect.signature of
both), apart from the differences listed here, each of which the table's note states."""
import inspect

import pytest

import minislim

pytest.importorskip("tf_slim")

#: tf_slim arguments minislim does not take (the names table's note says so)
NOT_TAKEN = {
    "assign_from_checkpoint_fn": {"reshape_variables"},
    "batch_norm": {"batch_weights", "zero_debias_moving_mean", "renorm", "renorm_clipping", "renorm_decay",
                   "adjustment"},
    "create_global_step": {"graph"}, "get_global_step": {"graph"}, "get_or_create_global_step": {"graph"},
    "variable": {"caching_device", "partitioner", "custom_getter", "use_resource", "synchronization",
                 "aggregation"},
    "model_variable": {"caching_device", "partitioner", "custom_getter", "use_resource", "synchronization",
                       "aggregation"},
    "losses.cosine_distance": {"dim"},
}
#: tf_slim defaults minislim changes (the note says so)
OTHER_DEFAULT = {"model_analyzer.analyze_vars": {"print_info"}, "losses.cosine_distance": {"axis"}}
#: tf_slim.losses' ``labels=None`` is required in effect (its shape check reads ``labels.get_shape()``)
REQUIRED_HERE = {f"losses.{n}": {"labels"} for n in ("absolute_difference", "cosine_distance", "log_loss",
                                                     "mean_squared_error", "mean_pairwise_squared_error")}
#: argument renamed (positional use is unchanged; the note says so)
RENAMED = {"metrics.aggregate_metric_map": {"names_to_tuples": "names_to_metrics"}}
#: redesigned for eager execution: the note gives minislim's arguments
REDESIGNED = {"learning.train", "learning.create_train_op", "evaluation.evaluate_once", "evaluation.evaluation_loop",
              "model_analyzer.analyze_ops", "local_variable"}


def _supported_functions(tf_slim):
    from tfslim_names import _lookup, rows
    out = []
    for name, status, _ in rows(tf_slim, minislim):
        theirs = _lookup(tf_slim, name)
        if status.startswith("supported") and inspect.isfunction(inspect.unwrap(theirs)) and name not in REDESIGNED:
            out.append((name, theirs, _lookup(minislim, name)))
    return out


def _default(value):
    """Comparable defaults: TF objects (initializers, dtypes) by kind; functions by name."""
    if value is inspect.Parameter.empty:
        return value
    if callable(value) or type(value).__module__.split(".")[0] in ("tensorflow", "minislim", "tf_keras", "keras"):
        return ("object", getattr(value, "__name__", None))
    return value


def _check(name, theirs, ours, not_taken=(), other_default=(), renamed=None, required_here=()):
    tf_params = [p for p in inspect.signature(inspect.unwrap(theirs)).parameters.values() if p.name not in not_taken]
    our_params = list(inspect.signature(inspect.unwrap(ours)).parameters.values())
    renamed = renamed or {}
    assert [renamed.get(p.name, p.name) for p in tf_params] == [p.name for p in our_params[:len(tf_params)]], name
    for extra in our_params[len(tf_params):]:  # anything more comes last and is optional
        assert extra.default is not inspect.Parameter.empty, f"{name}: extra argument {extra.name} is required"
    for tf_param, param in zip(tf_params, our_params):
        if tf_param.name in other_default or tf_param.name in required_here or \
                tf_param.default is inspect.Parameter.empty:
            continue  # required in tf_slim: minislim may give it a default (metrics: the first batch)
        theirs_default, ours_default = _default(tf_param.default), _default(param.default)
        if theirs_default == ("object", "_initializer") and tf_param.name == "weights_initializer":
            # tf_slim's default is xavier_initializer(): a closure; minislim's is the same rule as an object
            assert repr(param.default) == "VarianceScaling(factor=1.0, mode='FAN_AVG', uniform=True)", name
        elif isinstance(theirs_default, tuple) and theirs_default[1] in (None, "Zeros", "DType"):
            assert ours_default is None or isinstance(ours_default, tuple), (name, tf_param.name)
        else:
            assert ours_default == theirs_default, (name, tf_param.name, tf_param.default, param.default)


def test_signatures_are_tf_slims(tf1):
    """every supported tf_slim function: its arguments, their order and defaults (documented exceptions aside)"""
    functions = _supported_functions(tf1[1])
    assert len(functions) > 100
    failures = []
    for name, theirs, ours in functions:
        try:
            _check(name, theirs, ours, NOT_TAKEN.get(name, ()), OTHER_DEFAULT.get(name, ()), RENAMED.get(name),
                   REQUIRED_HERE.get(name, ()))
        except AssertionError as error:
            failures.append(f"{name}: {error}")
    assert not failures, "\n".join(failures)


def test_tf1_schedules_optimizer_and_losses_take_tf1s_arguments(tf1):
    """tf.compat.v1 decays (less global_step), AdagradOptimizer (less use_locking), huber_loss, compute_weighted_loss"""
    tf = tf1[0]
    v1, slim = tf.compat.v1, minislim
    for decay in ("exponential_decay", "polynomial_decay", "natural_exp_decay", "inverse_time_decay"):
        _check(decay, getattr(v1.train, decay), getattr(slim.optimizers, decay), {"global_step", "name"})
    _check("piecewise_constant", v1.train.piecewise_constant, slim.optimizers.piecewise_constant, {"x", "name"})
    _check("Adagrad", v1.train.AdagradOptimizer.__init__, slim.optimizers.Adagrad.__init__, {"use_locking"})
    _check("huber_loss", v1.losses.huber_loss, slim.losses.huber_loss)
    _check("compute_weighted_loss", v1.losses.compute_weighted_loss, slim.losses.compute_weighted_loss)
    assert {k: getattr(v1.losses.Reduction, k) for k in dir(v1.losses.Reduction) if k.isupper()} == {
        k: getattr(slim.losses.Reduction, k) for k in dir(slim.losses.Reduction) if k.isupper()}
