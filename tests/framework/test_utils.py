"""End points and argument helpers (slim.utils)."""
import pytest

import minislim as slim
from minislim.framework.utils import two_element_tuple


def test_end_points_map_aliases_to_outputs_in_order():
    a, b = slim.tensor([1.0]), slim.tensor([2.0])
    slim.utils.collect_named_outputs("ends", "net/conv1/", a)
    slim.utils.collect_named_outputs(["ends", "all"], "net/pool1", b)
    ends = slim.utils.convert_collection_to_dict("ends")
    assert list(ends) == ["net/conv1", "net/pool1"] and ends["net/conv1"] is a
    assert slim.get_collection("all") == [b]


def test_a_new_output_under_an_alias_replaces_the_old_one():
    for step in range(3):
        slim.utils.collect_named_outputs("ends", "net/fc1", slim.tensor([float(step)]))
        slim.utils.collect_named_outputs("ends", "net/fc2", slim.tensor([float(step)]))
    assert len(slim.get_collection("ends")) == 2
    assert slim.utils.convert_collection_to_dict("ends")["net/fc2"].item() == 2.0


def test_one_tensor_may_carry_two_aliases():
    x = slim.tensor([1.0])
    slim.utils.collect_named_outputs("ends", "fc7", x)
    slim.utils.collect_named_outputs("ends", "dropout7", x)  # dropout at eval returns its input
    assert list(slim.utils.convert_collection_to_dict("ends")) == ["fc7", "dropout7"]
    y = slim.tensor([2.0])
    slim.utils.collect_named_outputs("ends", "fc7", y)
    ends = slim.utils.convert_collection_to_dict("ends", clear_collection=True)
    assert ends["fc7"] is y and ends["dropout7"] is x
    assert slim.get_collection("ends") == []


def test_no_collection_means_no_alias():
    x = slim.tensor([1.0])
    assert slim.utils.collect_named_outputs(None, "fc", x) is x and not hasattr(x, "aliases")


@pytest.mark.parametrize("value, expected", [(3, (3, 3)), ([2, 5], (2, 5)), ((1, 1), (1, 1))])
def test_two_element_tuple(value, expected):
    assert two_element_tuple(value) == expected


@pytest.mark.parametrize("value, error", [([1, 2, 3], ValueError), ("3", TypeError), (2.5, TypeError),
                                          ([1.5, 2], TypeError), (True, TypeError)])
def test_two_element_tuple_rejects(value, error):
    with pytest.raises(error, match="kernel_size"):
        two_element_tuple(value, "kernel_size")
