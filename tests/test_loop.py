"""Closing the loop (闭环): warnings -> cases -> outcomes -> events -> retrain."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest

import anxin
from anxin import CaseStore, Tables, merge_outcomes


@pytest.mark.slow
def test_outcomes_flow_back_into_training(
    trained: tuple[anxin.TrainResult, str],
    model_world: Tables,
    tmp_path: Path,
    tracking_uri: str,
) -> None:
    model = trained[0].model
    warnings = anxin.explain(model_world, as_of="2026-03", model=model)
    store = CaseStore(f"sqlite:///{tmp_path / 'cases.db'}")
    opened = store.open_from_scores(warnings, now="2026-04-01 09:00")
    assert opened.opened == int((warnings["risk_level"] != "none").sum())
    # inspectors verify the top warnings in May: the first eight are confirmed
    queue = store.list(status="new").sort_values("score", ascending=False).head(12)
    for i, case_id in enumerate(queue["id"]):
        store.move(case_id, "dispatched", by="派单员 Wang", now="2026-04-01 10:00")
        store.move(case_id, "verifying", by="核查员 Li", now="2026-05-06 09:00")
        if i < 8:
            store.move(
                case_id,
                "confirmed",
                by="核查员 Li",
                now="2026-05-08 16:00",
                workers_affected=5 + i,
                amount_owed=30_000.0 + i,
            )
        else:
            store.move(
                case_id,
                "false_alarm",
                by="核查员 Li",
                now="2026-05-08 16:00",
                note="wages paid on 5 May",
            )
    outcomes = store.outcomes()
    assert (outcomes["outcome"] == "confirmed").sum() == 8
    assert set(outcomes["period"]) == {"2026-05"}

    merged = merge_outcomes(model_world, outcomes)
    assert merged.events is not None and model_world.events is not None
    key = ["enterprise_id", "period"]
    before = set(model_world.events[key].itertuples(index=False, name=None))
    confirmed = outcomes[outcomes["outcome"] == "confirmed"]
    new_pairs = set(confirmed[key].itertuples(index=False, name=None)) - before
    assert len(merged.events) == len(model_world.events) + len(new_pairs)
    # merging again changes nothing
    again = merge_outcomes(merged, outcomes)
    assert again.events is not None and len(again.events) == len(merged.events)
    # the findings become labels: (t, t+3] contains 2026-05 for t = 02..04, and
    # 2026-04's window runs past the data (2026-06), so it stays censored
    labels = anxin.build_labels(merged).set_index(key)["label"]
    checked = 0
    for enterprise, _ in new_pairs:
        for t in ("2026-02", "2026-03"):
            if (enterprise, t) in labels.index:
                assert labels.loc[(enterprise, t)] == 1
                checked += 1
        if (enterprise, "2026-04") in labels.index:
            assert labels.isna().loc[(enterprise, "2026-04")]
    assert checked > 0

    # field performance is logged for analysts, next to the test metrics
    stats = store.stats(now="2026-05-31 18:00")
    assert stats.hit_rate == pytest.approx(8 / 12)
    run_id = anxin.log_field_performance(
        store, tracking_uri=tracking_uri, now="2026-05-31 18:00"
    )
    logged = mlflow.MlflowClient(tracking_uri).get_run(run_id).data.metrics
    assert logged["field_hit_rate"] == pytest.approx(8 / 12)

    # and retraining learns from them: more positives than before
    first = anxin.train(model_world, tracking_uri=tracking_uri, num_boost_round=60)
    second = anxin.train(merged, tracking_uri=tracking_uri, num_boost_round=60)
    client = mlflow.MlflowClient(tracking_uri)
    p1 = int(client.get_run(first.run_id).data.tags["positives"])
    p2 = int(client.get_run(second.run_id).data.tags["positives"])
    assert p2 > p1
    assert second.aliases == ["challenger"]
    store.close()
