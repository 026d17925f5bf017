"""Routing: which unit handles a new case, and in which grid.

Rules are tried in order and the first match assigns the responsible unit
(责任单位); a region not named in the grid mapping is its own grid (网格).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from anxin.cases.limits import check_name

__all__ = [
    "DEFAULT_ROUTING_RULES",
    "HOUSING_UNIT",
    "LABOUR_INSPECTION_UNIT",
    "Routing",
    "RoutingRule",
]

#: 人社局劳动保障监察大队 -- labour inspection, responsible for every case.
LABOUR_INSPECTION_UNIT = "人社劳动监察大队"
#: 住房和城乡建设局 -- joins construction cases (工程建设领域).
HOUSING_UNIT = "住建局"


@dataclasses.dataclass(frozen=True)
class RoutingRule:
    """Send matching cases to ``unit``.

    Attributes
    ----------
    unit : str
        Responsible unit(s); joint units are joined with ``+``
        (``"住建局+人社劳动监察大队"``).
    industries : tuple of str
        Industry sections (GB/T 4754 letters) the rule applies to; empty for
        any.
    regions : tuple of str
        Region-code prefixes the rule applies to (``"3305"`` for a city,
        ``"330502"`` for a district); empty for any.

    Examples
    --------
    >>> rule = RoutingRule(unit="u", industries=("E",), regions=("3305",))
    >>> rule.matches("E", "330502"), rule.matches("E", "330101")
    (True, False)
    """

    unit: str
    industries: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_name("unit", self.unit, "RoutingRule")

    def matches(self, industry: str | None, region: str | None) -> bool:
        """Whether a case with this industry and region follows the rule."""
        if self.industries and industry not in self.industries:
            return False
        return not self.regions or (
            region is not None and any(region.startswith(p) for p in self.regions)
        )


#: Construction (E) goes to 住建 jointly with labour inspection.
DEFAULT_ROUTING_RULES: tuple[RoutingRule, ...] = (
    RoutingRule(unit=f"{HOUSING_UNIT}+{LABOUR_INSPECTION_UNIT}", industries=("E",)),
)


@dataclasses.dataclass(frozen=True)
class Routing:
    """Who handles a case: the first matching rule's unit, and the grid.

    Attributes
    ----------
    rules : tuple of RoutingRule
        Tried in order; the first that matches assigns the unit.
    default_unit : str
        Unit when no rule matches.
    grids : mapping of str to str
        Region code -> township / grid (乡镇街道 / 网格) name. A region not in
        the mapping is its own grid (the region code).

    Examples
    --------
    >>> Routing().route("E", "330502")
    ('住建局+人社劳动监察大队', '330502')
    >>> Routing(grids={"330502": "吴兴区网格一"}).route("C", "330502")
    ('人社劳动监察大队', '吴兴区网格一')
    """

    rules: tuple[RoutingRule, ...] = DEFAULT_ROUTING_RULES
    default_unit: str = LABOUR_INSPECTION_UNIT
    grids: Mapping[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        check_name("default_unit", self.default_unit, "Routing")
        for grid in self.grids.values():
            check_name("grids", grid, "Routing")

    def route(self, industry: str | None, region: str | None) -> tuple[str, str | None]:
        """Return ``(unit, grid)`` for a case."""
        unit = next(
            (r.unit for r in self.rules if r.matches(industry, region)),
            self.default_unit,
        )
        grid = None if region is None else self.grids.get(region, region)
        return unit, grid
