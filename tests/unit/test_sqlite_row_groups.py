"""The rows of each channel (or author) of a vector matrix, kept as rows arrive."""

from __future__ import annotations

import numpy as np

from engine.store.sqlite._row_groups import RowsByCode


def test_rows_are_found_by_code_across_batches_and_single_rows() -> None:
    groups = RowsByCode()
    groups.extend(0, np.array([3, 1, 3, 2], np.int32))
    groups.extend(4, np.array([1], np.int32))
    groups.extend(5, np.array([2, 3], np.int32))

    assert groups.rows(3).tolist() == [0, 2, 6]
    assert groups.rows(1).tolist() == [1, 4]
    assert groups.rows(2).tolist() == [3, 5]
    assert groups.count(3) == 3
    assert groups.rows(9).tolist() == []
    assert groups.count(9) == 0


def test_rows_read_once_still_take_later_rows() -> None:
    groups = RowsByCode()
    groups.extend(0, np.array([7, 7], np.int32))
    assert groups.rows(7).tolist() == [0, 1]

    groups.extend(2, np.array([7], np.int32))

    assert groups.rows(7).tolist() == [0, 1, 2]
    assert groups.count(7) == 3
