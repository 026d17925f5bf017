"""Features: no look-ahead, order independence, missing is unknown, signal."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import anxin
from anxin import CATALOGUE, InvalidParameterError, Tables, build_features
from anxin._calendar import index_to_periods, to_index
from anxin.features import feature_names

MONTHS = list(index_to_periods(np.arange(to_index("2024-01"), to_index("2026-06") + 1)))
SETTINGS = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)


@pytest.fixture(scope="module")
def small(tables: Tables) -> Tables:
    ids = tables.enterprises["enterprise_id"].iloc[:120]
    return Tables(
        **{
            n: f[f["enterprise_id"].isin(ids)].reset_index(drop=True)
            for n, f in tables.items()
        }
    )


@pytest.fixture(scope="module")
def panel(small: Tables) -> pd.DataFrame:
    return build_features(small)


def _at(frame: pd.DataFrame, month: str) -> pd.DataFrame:
    return frame[frame["period"] == month].reset_index(drop=True)


def test_one_row_per_active_enterprise_month(
    small: Tables, panel: pd.DataFrame
) -> None:
    assert len(panel) == len(small.payroll)
    keys = panel[["enterprise_id", "period"]]
    assert not keys.duplicated().any()
    pd.testing.assert_frame_equal(
        keys.sort_values(["enterprise_id", "period"]).reset_index(drop=True),
        small.payroll[["enterprise_id", "period"]]
        .sort_values(["enterprise_id", "period"])
        .reset_index(drop=True),
        check_dtype=False,
    )
    assert list(panel.columns) == ["enterprise_id", "period", *CATALOGUE]
    numeric = feature_names("numeric")
    assert (panel[numeric].dtypes == np.float32).all()
    assert isinstance(panel["industry"].dtype, pd.CategoricalDtype)


@SETTINGS
@given(
    t=st.sampled_from(MONTHS[:-1]),
    fraction=st.floats(0.05, 1.0),
    delete=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_no_look_ahead(
    small: Tables, panel: pd.DataFrame, t: str, fraction: float, delete: bool, seed: int
) -> None:
    """Changing or deleting any data after t leaves the row for t bit-identical."""
    rng = np.random.default_rng(seed)
    changed = {}
    for name, frame in small.items():
        if name == "enterprises":
            continue
        after = np.flatnonzero((frame["period"] > t).to_numpy())
        pick = after[rng.random(after.size) < fraction]
        if delete:
            changed[name] = frame.drop(index=pick).reset_index(drop=True)
            continue
        out = frame.copy()
        for column in out.columns[2:]:
            values = pd.to_numeric(out[column]).astype("float64")
            values.iloc[pick] = values.iloc[pick] * rng.uniform(0, 5, pick.size) + 1
            if pd.api.types.is_integer_dtype(out[column].dtype):
                values = values.round()
            out[column] = values.astype(out[column].dtype)
        changed[name] = out
    future = build_features(small.replace(**changed))
    pd.testing.assert_frame_equal(_at(future, t), _at(panel, t), check_exact=True)
    # and scoring t from the changed data agrees too
    pd.testing.assert_frame_equal(
        build_features(small.replace(**changed), as_of=t),
        _at(panel, t),
        check_exact=True,
    )


@SETTINGS
@given(seed=st.integers(0, 2**16))
def test_shuffled_rows_change_nothing(
    small: Tables, panel: pd.DataFrame, seed: int
) -> None:
    shuffled = {
        name: frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)
        for name, frame in small.items()
    }
    pd.testing.assert_frame_equal(
        build_features(Tables(**shuffled)), panel, check_exact=True
    )


@SETTINGS
@given(months=st.lists(st.sampled_from(MONTHS), min_size=1, max_size=3, unique=True))
def test_as_of_equals_the_full_panel(
    small: Tables, panel: pd.DataFrame, months: list[str]
) -> None:
    scored = build_features(small, as_of=months if len(months) > 1 else months[0])
    expected = panel[panel["period"].isin(months)].reset_index(drop=True)
    pd.testing.assert_frame_equal(scored, expected, check_exact=True)


def test_as_of_reads_only_the_lookback(small: Tables, panel: pd.DataFrame) -> None:
    """Data older than 12 months before as_of cannot matter, so it is not read."""
    t = "2026-06"
    recent = {
        n: f[f["period"] >= "2025-06"].reset_index(drop=True)
        for n, f in small.items()
        if n not in ("enterprises", "events")
    }
    got = build_features(small.replace(**recent), as_of=t)
    pd.testing.assert_frame_equal(got, _at(panel, t), check_exact=True)


def test_missing_tax_month_is_unknown_not_zero(small: Tables) -> None:
    assert small.tax is not None
    row = small.tax.iloc[40]
    e, t = row["enterprise_id"], row["period"]
    tax = small.tax.drop(index=40)
    feats = build_features(small.replace(tax=tax), as_of=t)
    mine = feats[feats["enterprise_id"] == e].iloc[0]
    before = build_features(small, as_of=t)
    was = before[before["enterprise_id"] == e].iloc[0]
    for column in ("invoice_amount", "tax_arrears", "vat_to_invoice", "invoice_chg_1m"):
        assert np.isnan(mine[column])
    assert mine["tax_months_reported_12m"] == was["tax_months_reported_12m"] - 1


def test_window_uses_the_months_that_exist(small: Tables) -> None:
    assert small.signals is not None
    sig = small.signals
    e = sig["enterprise_id"].iloc[0]
    rows = sig[sig["enterprise_id"] == e].sort_values("period")
    t = rows["period"].iloc[6]
    expected = pd.to_numeric(rows[rows["period"] <= t]["complaints"].iloc[-3:]).sum()
    got = (
        build_features(small, as_of=t)
        .set_index("enterprise_id")
        .loc[e, "complaints_3m"]
    )
    assert got == pytest.approx(float(expected))


def test_peer_change_is_relative_to_segment(panel: pd.DataFrame) -> None:
    now = _at(panel, MONTHS[-1])
    change = now["headcount_chg_1m"].astype("float64")
    seg_mean = (
        change.clip(-1, 1)
        .groupby([now["industry"], now["region"]], observed=True)
        .transform("mean")
    )
    expected = change - seg_mean
    np.testing.assert_allclose(
        now["headcount_peer_chg_1m"], expected, rtol=1e-5, atol=1e-6
    )
    assert expected.abs().sum() > 0


def test_history_counts_only_confirmed_before(small: Tables) -> None:
    assert small.events is not None and len(small.events) > 0
    feats = build_features(small)
    events = small.events[["enterprise_id", "period"]].astype("str")
    # every row against a brute-force count of the events up to its month
    rows = feats[["enterprise_id", "period"]].astype("str").reset_index()
    pairs = rows.merge(events, on="enterprise_id", how="left", suffixes=("", "_ev"))
    upto = pairs[pairs["period_ev"].notna() & (pairs["period_ev"] <= pairs["period"])]
    count = upto.groupby("index").size().reindex(rows["index"], fill_value=0)
    np.testing.assert_array_equal(feats["past_arrears_count"].to_numpy(), count)
    last = upto.groupby("index")["period_ev"].max().reindex(rows["index"])
    since = [
        np.nan if pd.isna(ev) else to_index(t) - to_index(ev)
        for t, ev in zip(rows["period"], last, strict=True)
    ]
    np.testing.assert_array_equal(feats["months_since_last_arrears"], since)
    # the check is not vacuous: some rows follow an event, some at its month
    assert (count > 0).any() and (np.asarray(since) == 0).any()


@pytest.mark.parametrize("bad", ["2026-13", "June", ["2026-01", "x"], []])
def test_bad_as_of(small: Tables, bad: object) -> None:
    with pytest.raises(InvalidParameterError, match="The 'as_of' parameter"):
        build_features(small, as_of=bad)  # type: ignore[arg-type]


def test_as_of_without_data(small: Tables) -> None:
    with pytest.raises(InvalidParameterError, match="2024-01 to 2026-06"):
        build_features(small, as_of="2027-01")


def test_unvalidated_tables_are_refused(small: Tables) -> None:
    pay = small.payroll.copy()
    pay.loc[0, "enterprise_id"] = "91110000600037341L"
    with pytest.raises(anxin.ContractError, match=r"Run anxin\.validate first"):
        build_features(small.replace(payroll=pay))


def test_features_beat_raw_values_out_of_time(model_world: Tables) -> None:
    """A plain LightGBM on the features beats the same model on raw monthly values."""
    import lightgbm as lgb
    from sklearn.metrics import average_precision_score

    feats = build_features(model_world)
    labels = anxin.build_labels(model_world, horizon=3)
    data = feats.assign(label=labels["label"]).dropna(subset=["label"])
    raw_cols = [
        "headcount",
        "wages_per_head",
        "wage_shortfall_share",
        "si_gap_share",
        "pay_delay_days",
        "tax_arrears",
        "invoice_amount",
        "electricity_kwh",
        "complaints_1m",
        "industry",
        "region",
    ]
    last = data["period"].max()
    test_months = sorted(data["period"].unique())[-3:]
    train = data[data["period"] < "2025-12"]
    test = data[data["period"].isin(test_months)]
    assert last in test_months

    def fit_ap(columns: list[str]) -> float:
        params = {
            "objective": "binary",
            "learning_rate": 0.05,
            "num_leaves": 15,
            "min_data_in_leaf": 50,
            "verbose": -1,
            "seed": 1,
            "deterministic": True,
            "num_threads": 2,
        }
        booster = lgb.train(
            params,
            lgb.Dataset(train[columns], train["label"].astype(int)),
            num_boost_round=150,
        )
        return float(
            average_precision_score(
                test["label"].astype(int), booster.predict(test[columns])
            )
        )

    ap_features = fit_ap([c for c in CATALOGUE])
    ap_raw = fit_ap(raw_cols)
    assert ap_features > ap_raw


def test_features_from_validate_equal_features_from_fresh_columns() -> None:
    # anxin.validate hands the features its enterprise codes and rows; fresh
    # copies of the columns are hashed from scratch: the same features
    dirty = anxin.synth(n_enterprises=1500, n_months=16, seed=5, dirty=True).tables
    clean = anxin.validate(dirty).tables
    fresh = Tables(**{name: frame.copy(deep=True) for name, frame in clean.items()})
    pd.testing.assert_frame_equal(
        build_features(clean, as_of=clean.last_period()),
        build_features(fresh, as_of=fresh.last_period()),
        check_exact=True,
    )


def test_ids_changed_in_place_after_validate_are_not_missed() -> None:
    clean = anxin.validate(anxin.synth(n_enterprises=300, n_months=14, seed=6).tables)
    tables = clean.tables
    build_features(tables)  # codes and rows remembered
    ids = tables.enterprises["enterprise_id"]
    tables.enterprises.loc[0, "enterprise_id"] = "91110000600037341L"
    assert ids.iloc[0] != tables.enterprises["enterprise_id"].iloc[0]
    with pytest.raises(anxin.ContractError, match="is not in enterprises"):
        build_features(tables)
