"""model_analyzer.analyze_vars: totals and the printed table."""
import numpy as np

import minislim as slim


def test_totals_count_elements_and_bytes_per_dtype(capsys):
    slim.conv2d(np.zeros((1, 4, 4, 3), np.float32), 8, [3, 3], scope="conv1")
    slim.get_or_create_global_step()  # int64, one element
    total_size, total_bytes = slim.model_analyzer.analyze_vars(slim.get_variables())
    assert total_size == 3 * 3 * 3 * 8 + 8 + 1
    assert total_bytes == (3 * 3 * 3 * 8 + 8) * 4 + 8
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "shape", "size", "bytes"]
    assert lines[1].split() == ["conv1/weights", "(3,", "3,", "3,", "8)", "216", "864"]
    assert lines[-2:] == ["Total size of variables: 225", "Total bytes of variables: 904"]


def test_print_info_false_prints_nothing_and_none_means_every_variable(capsys):
    slim.variable("v", shape=[2, 5], dtype="float64")
    assert slim.model_analyzer.analyze_vars(print_info=False) == (10, 80)
    assert capsys.readouterr().out == ""


def test_an_empty_list_is_zero(capsys):
    assert slim.model_analyzer.analyze_vars([]) == (0, 0)
    assert "Total size of variables: 0" in capsys.readouterr().out
