"""One row per figure: what was measured, its value, and the peer or bound it is compared with."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass
class Row:
    bench: str
    figure: str
    value: float
    unit: str
    reference_name: str = ""
    reference: float | None = None
    higher_is_better: bool = True
    target: float | None = None  # ratio target
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.reference in (None, 0) or math.isnan(self.value):
            return None
        return self.value / self.reference if self.higher_is_better else self.reference / self.value


def print_table(rows: list[Row]) -> None:
    header = f"{'benchmark':<22} {'figure':<34} {'value':>12} {'unit':<8} {'peer / bound':<28} {'ratio':>7} {'target':>7}"
    print(header)
    print("-" * len(header))
    for row in rows:
        reference = f"{row.reference_name} {row.reference:.1f}" if row.reference is not None else row.reference_name
        ratio = f"{row.ratio:.2f}" if row.ratio is not None else ""
        target = f"≥{row.target:.2f}" if row.target else ""
        print(f"{row.bench:<22} {row.figure:<34} {row.value:>12.1f} {row.unit:<8} {reference:<28} {ratio:>7} {target:>7}"
              + (f"  {row.note}" if row.note else ""))
