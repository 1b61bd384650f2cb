"""The rows of a matrix grouped by the code of one single-valued field (channel, author).

A search limited to one channel reads only that channel's rows: at a million rows, finding
them by comparing the whole column took longer than scoring them.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

type Codes = npt.NDArray[np.int32]


class RowsByCode:
    """Rows appended per code, in order; rows later killed stay (readers check ``alive``)."""

    def __init__(self) -> None:
        self._chunks: dict[int, list[Codes]] = {}
        self._counts: dict[int, int] = {}

    def extend(self, first_row: int, codes: Codes) -> None:
        """Note that row ``first_row + i`` holds ``codes[i]``."""
        if len(codes) == 1:
            self._add(int(codes[0]), np.array([first_row], np.int32))
            return
        order = np.argsort(codes, kind="stable").astype(np.int32)
        present, starts = np.unique(codes[order], return_index=True)
        stops = [*starts[1:].tolist(), len(codes)]
        for code, start, stop in zip(present.tolist(), starts.tolist(), stops, strict=True):
            self._add(code, order[start:stop] + np.int32(first_row))

    def _add(self, code: int, rows: Codes) -> None:
        self._chunks.setdefault(code, []).append(rows)
        self._counts[code] = self._counts.get(code, 0) + len(rows)

    def count(self, code: int) -> int:
        """Rows ever given ``code`` (an upper bound on those alive)."""
        return self._counts.get(code, 0)

    def rows(self, code: int) -> Codes:
        """The rows given ``code``, ascending."""
        chunks = self._chunks.get(code)
        if not chunks:
            return np.zeros(0, np.int32)
        if len(chunks) > 1:
            chunks[:] = [np.concatenate(chunks)]
        return chunks[0]
