"""Tests for anxin.cases.routing: units and grids of new cases."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from anxin.cases import CaseStore, Routing, RoutingRule

from .helpers import T0, make_scores


def test_default_routing(store: CaseStore, enterprises: pd.DataFrame) -> None:
    construction = enterprises[enterprises["industry"] == "E"].head(2)
    others = enterprises[enterprises["industry"] != "E"].head(3)
    ents = pd.concat([construction, others])
    store.open_from_scores(make_scores(ents, ["red"] * 5), now=T0)
    frame = store.list().set_index("enterprise_id")
    for rec in ents.itertuples():
        expected = (
            "住建局+人社劳动监察大队" if rec.industry == "E" else "人社劳动监察大队"
        )
        assert frame.loc[rec.enterprise_id, "unit"] == expected
        assert frame.loc[rec.enterprise_id, "grid"] == rec.region
    assert len(store.list(unit="住建局")) == 2
    assert len(store.list(unit="人社劳动监察大队")) == 5
    assert len(store.list(unit="人社")) == 0  # whole unit names only


def test_custom_routing_on_store_and_per_call(
    tmp_path: Path, enterprises: pd.DataFrame
) -> None:
    ents = enterprises.head(4)
    region = str(ents["region"].iloc[0])
    routing = Routing(
        rules=(RoutingRule(unit="吴兴区劳动监察中队", regions=(region[:6],)),),
        default_unit="市劳动监察支队",
        grids={region: "第一网格"},
    )
    with CaseStore(f"sqlite:///{tmp_path}/c.db", routing=routing) as store:
        store.open_from_scores(make_scores(ents.head(2), ["red"] * 2), now=T0)
        per_call = Routing(default_unit="临时专班")
        store.open_from_scores(
            make_scores(ents.iloc[2:], ["red"] * 2), now=T0, routing=per_call
        )
        frame = store.list().set_index("enterprise_id")
    for rec in ents.head(2).itertuples():
        unit = "吴兴区劳动监察中队" if rec.region == region else "市劳动监察支队"
        assert frame.loc[rec.enterprise_id, "unit"] == unit
        grid = "第一网格" if rec.region == region else rec.region
        assert frame.loc[rec.enterprise_id, "grid"] == grid
    for rec in ents.iloc[2:].itertuples():
        assert frame.loc[rec.enterprise_id, "unit"] == "临时专班"


def test_routing_rule_matching() -> None:
    rule = RoutingRule(unit="u", industries=("E", "K"), regions=("3305",))
    assert rule.matches("E", "330502")
    assert not rule.matches("C", "330502")
    assert not rule.matches("E", "330101")
    assert not rule.matches("E", None)
    assert Routing().route(None, None) == ("人社劳动监察大队", None)
