"""Tests for anxin.cases.store: the CaseStore facade."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from anxin.cases import CaseStore
from anxin.config import config_context
from anxin.exceptions import InvalidParameterError

from .helpers import T0, make_scores


def test_default_url_is_sqlite_file_under_anxin_home(tmp_path: Path) -> None:
    home = tmp_path / "deep" / "home"
    with config_context(home=home), CaseStore() as store:
        assert store.url == f"sqlite:///{(home / 'cases.db').as_posix()}"
        assert (home / "cases.db").is_file()
        assert store.schema_version == store.latest_schema_version


def test_repr_hides_password() -> None:
    store = CaseStore.__new__(CaseStore)
    store.url = "postgresql://inspector:s3cret@db/cases"
    assert "s3cret" not in repr(store)


def test_repr_names_the_store_without_password() -> None:
    store = CaseStore.__new__(CaseStore)
    store.url = "postgresql://inspector:s3cret@db/cases"
    assert repr(store) == "CaseStore('postgresql://inspector:***@db/cases')"


def test_whoever_acts_is_recorded_as_by(
    store: CaseStore, enterprises: pd.DataFrame
) -> None:
    opened = store.open_from_scores(
        make_scores(enterprises, ["red"]), now=T0, by=" 评分任务 "
    )
    (case_id,) = opened.opened_ids
    assert store.get(case_id).updated_by == "评分任务"
    store.overdue(T0 + dt.timedelta(days=1), by="督办系统")
    store.move(case_id, "dispatched", by="派单员王", now=T0 + dt.timedelta(days=1))
    history = store.history(case_id)
    assert history["actor"].tolist() == ["评分任务", "督办系统", "派单员王"]
    assert history["action"].tolist() == ["opened", "overdue_escalated", "transition"]


@pytest.mark.parametrize("method", ["open_from_scores", "overdue"])
def test_by_is_required_and_actor_is_gone(
    store: CaseStore, enterprises: pd.DataFrame, method: str
) -> None:
    args = [make_scores(enterprises, ["red"])] if method == "open_from_scores" else []
    call = getattr(store, method)
    for bad in ("", "  ", None):
        with pytest.raises(InvalidParameterError, match=f"'by' parameter of {method}"):
            call(*args, by=bad)
    with pytest.raises(TypeError, match="actor"):
        call(*args, actor="system")
    assert store.list().empty


def test_routing_must_be_a_routing(store: CaseStore, enterprises: pd.DataFrame) -> None:
    with pytest.raises(InvalidParameterError, match="'routing' parameter of CaseStore"):
        CaseStore("sqlite://", routing="住建局")  # type: ignore[arg-type]
    with pytest.raises(InvalidParameterError, match="'routing' parameter of open_from"):
        store.open_from_scores(make_scores(enterprises, ["red"]), routing="x")  # type: ignore[arg-type]
