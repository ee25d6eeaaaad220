"""Shared state of one generation run: the range, the seed and the entities built so far.

Modules add to it in dependency order (accounts -> contacts -> campaigns -> email ->
responses -> billing -> CRM), so later modules can join to earlier ones by array index
instead of by string id.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from upsell.generate.params import ScaleParams
from upsell.generate.rng import child_rng
from upsell.generate.timeutil import day_of, month_index, month_start_day


def ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """'ACC-000001'-style ids from integers, vectorized."""
    digits = pc.utf8_lpad(pc.cast(pa.array(np.asarray(numbers, dtype=np.int64)), pa.string()),
                          width, padding="0")
    return pc.binary_join_element_wise(prefix, digits, "")


@dataclass
class World:
    seed: int
    params: ScaleParams
    start: dt.date
    end: dt.date
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def start_day(self) -> int:
        return day_of(self.start)

    @property
    def end_day(self) -> int:
        return day_of(self.end)

    @property
    def snap_day(self) -> int:
        """Date of the earlier re-export: the last day of the month before ``end``'s month."""
        return int(month_start_day(month_index(self.end_day))) - 1

    def rng(self, *tags: object) -> np.random.Generator:
        return child_rng(self.seed, *tags)
