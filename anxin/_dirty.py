"""Breaking a synthetic world in known ways (``anxin.synth(dirty=True)``).

Every broken row is listed in a manifest (table, 1-based row, rule), so that a
test can check that validation quarantines exactly these rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.random import Generator

from anxin import _calendar, _uscc
from anxin.tables import Tables

__all__ = ["inject", "make_ids"]


def make_ids(rng: Generator, regions: np.ndarray) -> np.ndarray:
    """Unique USCCs: '91' (企业) + region code + random 9-char org code + check."""
    n = len(regions)
    alphabet = _uscc.ALPHABET
    digits = np.frombuffer("".join(regions).encode(), dtype=np.uint8).reshape(n, 6)
    region_part = digits.astype(np.int64) - ord("0")
    ids = np.empty(n, dtype=object)
    todo = np.arange(n)
    seen: set[str] = set()
    while todo.size:
        org = rng.integers(0, len(alphabet), size=(todo.size, 9))
        head = np.tile(np.array([9, 1]), (todo.size, 1))
        body = np.concatenate([head, region_part[todo], org], axis=1)
        codes = _uscc.make_codes(body)
        retry = []
        for i, code in zip(todo, codes, strict=True):
            if code in seen:
                retry.append(i)
            else:
                seen.add(code)
                ids[i] = code
        todo = np.array(retry, dtype=np.int64)
    return ids.astype(str)


def inject(tables: Tables, rng: Generator, end_idx: int) -> tuple[Tables, pd.DataFrame]:
    """Break a few rows of each table in known ways; return the manifest."""
    manifest: list[tuple[str, int, str]] = []
    ent = tables.enterprises.copy()
    pay = tables.payroll.copy()
    tax = tables.tax.copy() if tables.tax is not None else None
    sig = tables.signals.copy() if tables.signals is not None else None
    evt = tables.events.copy() if tables.events is not None else None
    k = max(2, len(pay) // 20_000)

    def append(
        frame: pd.DataFrame, rows: pd.DataFrame, table: str, rule: str
    ) -> pd.DataFrame:
        start = len(frame)
        manifest.extend((table, start + i + 1, rule) for i in range(len(rows)))
        return pd.concat([frame, rows], ignore_index=True)

    def fake_ids(m: int) -> np.ndarray:
        regions = rng.choice(ent["region"].to_numpy(), size=m)
        return make_ids(rng, regions)

    # enterprises: bad check character, duplicate, unknown industry,
    # established after the last period -- all on rows nobody uses
    bad = ent.sample(k, random_state=int(rng.integers(1 << 31))).copy()
    good_ids = fake_ids(k)
    bad["enterprise_id"] = [
        c[:17] + _uscc.ALPHABET[(_uscc.ALPHABET.index(c[17]) + 1) % 31]
        for c in good_ids
    ]
    ent = append(ent, bad, "enterprises", "uscc_check_character")
    ent = append(ent, ent.iloc[:k].copy(), "enterprises", "duplicate_key")
    odd = ent.iloc[:k].assign(enterprise_id=fake_ids(k), industry="Z")
    ent = append(ent, odd, "enterprises", "isin")
    after_end = pd.Timestamp(_calendar.to_period(end_idx + 3) + "-01")
    late = ent.iloc[:k].assign(enterprise_id=fake_ids(k), established=after_end)
    ent = append(ent, late, "enterprises", "established_not_after_last_period")

    # payroll: negative wages, unparsable period (in place); duplicates,
    # future periods, unknown enterprises (appended)
    rows = rng.choice(len(pay), size=2 * k, replace=False)
    neg, badp = rows[:k], rows[k:]
    pay.loc[neg, "wages_paid"] = -pay.loc[neg, "wages_paid"].abs() - 1
    manifest.extend(("payroll", int(i) + 1, "greater_than_or_equal_to") for i in neg)
    pay.loc[badp, "period"] = pay.loc[badp, "period"].str.slice(0, 4) + "-13"
    manifest.extend(("payroll", int(i) + 1, "period_format") for i in badp)
    clean = np.setdiff1d(np.arange(len(pay)), rows)
    dup = pay.iloc[rng.choice(clean, size=k, replace=False)].copy()
    pay = append(pay, dup, "payroll", "duplicate_key")
    future = pay.iloc[rng.choice(clean, size=k, replace=False)].copy()
    future["period"] = _calendar.to_period(end_idx + 240)
    pay = append(pay, future, "payroll", "period_not_in_future")
    unknown = pay.iloc[rng.choice(clean, size=k, replace=False)].copy()
    unknown["enterprise_id"] = fake_ids(k)
    pay = append(pay, unknown, "payroll", "known_enterprise")

    # tax, signals, events: a negative amount or count (in place)
    negatives = [
        ("tax", tax, "invoice_amount", -1.0, k),
        ("signals", sig, "complaints", -1, k),
        ("events", evt, "workers_affected", 0, 1),
    ]
    for table, frame, column, value, size in negatives:
        if frame is not None and len(frame) > size:
            rows = rng.choice(len(frame), size=size, replace=False)
            frame.loc[rows, column] = value
            rule = "greater_than_or_equal_to"
            manifest.extend((table, int(i) + 1, rule) for i in rows)

    injected = pd.DataFrame(manifest, columns=["table", "source_row", "rule"])
    injected = injected.sort_values(["table", "source_row"], ignore_index=True)
    return (
        Tables(enterprises=ent, payroll=pay, tax=tax, signals=sig, events=evt),
        injected,
    )
