"""A corpus of dirty exports: one bad value never stops a month, none slips by.

Each case breaks one thing in one file of a small, clean data directory and
runs ``anxin validate`` on it, as a bureau's scheduler would. A row-level
breach must be quarantined under the expected rule and column, with its CSV
line, while the month stays usable (exit 0); the quarantined line must come
back byte for byte; and rows in = rows valid + rows quarantined for every
table. A structural break (a table that cannot be read) must exit 2 with a
message naming the file and what to fix. No case may print a traceback.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import anxin
from anxin._uscc import make_codes
from anxin.cli import main

TODAY = "2026-11"
FIELDS = {
    "enterprises": [
        "enterprise_id",
        "industry",
        "region",
        "established",
        "registered_capital",
    ],
    "payroll": [
        "enterprise_id",
        "period",
        "insured_headcount",
        "wages_payable",
        "wages_paid",
        "pay_delay_days",
        "social_insurance_due",
        "social_insurance_paid",
    ],
    "tax": [
        "enterprise_id",
        "period",
        "invoice_amount",
        "vat_paid",
        "iit_withheld",
        "tax_arrears",
    ],
    "signals": ["enterprise_id", "period", "electricity_kwh", "complaints", "lawsuits"],
    "events": ["enterprise_id", "period", "workers_affected", "amount_owed"],
}
LINE = 5  # the data line each case breaks (line 1 is the header)
NEW_CODE = str(make_codes(np.random.default_rng(99).integers(0, 31, size=(1, 17)))[0])


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean data directory as CSV (60 enterprises x 14 months)."""
    root = tmp_path_factory.mktemp("clean")
    with anxin.config_context(today=TODAY):
        world = anxin.synth(n_enterprises=60, n_months=14, seed=3)
        tables = world.tables
        # events get a few more rows so that line 5 exists
        events = tables.payroll.sample(6, random_state=1)[["enterprise_id", "period"]]
        events = events.assign(workers_affected=3, amount_owed=12000.0)
        tables = tables.replace(events=events.reset_index(drop=True))
        tables.write(root / "csv", format="csv")
        tables.write(root / "parquet", format="parquet")
    return root


# -- editing one line of a CSV file --------------------------------------------


def _lines(path: Path) -> list[bytes]:
    return path.read_bytes().split(b"\n")


def _set_line(path: Path, line: int, raw: bytes) -> None:
    lines = _lines(path)
    lines[line - 1] = raw
    path.write_bytes(b"\n".join(lines))


def _set_field(table: str, column: str, value: str) -> Callable[[Path], bytes]:
    def edit(root: Path) -> bytes:
        path = root / f"{table}.csv"
        fields = _lines(path)[LINE - 1].decode().split(",")
        fields[FIELDS[table].index(column)] = value
        raw = ",".join(fields).encode("utf-8")
        _set_line(path, LINE, raw)
        return raw

    return edit


def _set_raw(table: str, make: Callable[[bytes], bytes]) -> Callable[[Path], bytes]:
    def edit(root: Path) -> bytes:
        path = root / f"{table}.csv"
        raw = make(_lines(path)[LINE - 1])
        _set_line(path, LINE, raw)
        return raw

    return edit


def _duplicate(table: str) -> Callable[[Path], bytes]:
    def edit(root: Path) -> bytes:
        path = root / f"{table}.csv"
        lines = _lines(path)
        _set_line(path, LINE, lines[2])  # the same key as line 3
        return lines[2]

    return edit


def _before_established(root: Path) -> bytes:
    """A payroll row for a month before its enterprise was established."""
    ent = pd.read_csv(root / "enterprises.csv", dtype=str)
    young = ent.loc[ent["established"].idxmax()]
    month = (pd.Timestamp(young["established"]) - pd.DateOffset(months=1)).strftime(
        "%Y-%m"
    )
    path = root / "payroll.csv"
    fields = _lines(path)[LINE - 1].decode().split(",")
    fields[0], fields[1] = young["enterprise_id"], month
    raw = ",".join(fields).encode()
    _set_line(path, LINE, raw)
    return raw


@dataclasses.dataclass(frozen=True)
class Row:
    """A row-level case: quarantined under ``rule``, the month still usable."""

    table: str
    edit: Callable[[Path], bytes]
    rule: str
    column: str | None


ROW_CASES = {
    # payroll
    "payroll-extra-field": Row(
        "payroll", _set_raw("payroll", lambda r: r + b",x"), "malformed_line", None
    ),
    "payroll-missing-field": Row(
        "payroll",
        _set_raw("payroll", lambda r: r.rsplit(b",", 1)[0]),
        "malformed_line",
        None,
    ),
    "payroll-unclosed-quote": Row(
        "payroll", _set_raw("payroll", lambda r: b'"' + r), "malformed_line", None
    ),
    "payroll-undecodable": Row(
        "payroll", _set_raw("payroll", lambda r: r + b"\xff\xfe"), "undecodable", None
    ),
    "payroll-period-0001": Row(
        "payroll",
        _set_field("payroll", "period", "0001-01"),
        "period_not_before_floor",
        "period",
    ),
    "payroll-period-1900": Row(
        "payroll",
        _set_field("payroll", "period", "1900-01"),
        "period_not_before_floor",
        "period",
    ),
    "payroll-period-month-13": Row(
        "payroll", _set_field("payroll", "period", "2026-13"), "period_format", "period"
    ),
    "payroll-period-full-width": Row(
        "payroll",
        _set_field("payroll", "period", "２０２６-01"),
        "period_format",
        "period",
    ),
    "payroll-period-future": Row(
        "payroll",
        _set_field("payroll", "period", "2046-06"),
        "period_not_in_future",
        "period",
    ),
    "payroll-period-blank": Row(
        "payroll", _set_field("payroll", "period", ""), "missing_value", "period"
    ),
    "payroll-wages-inf": Row(
        "payroll",
        _set_field("payroll", "wages_paid", "inf"),
        "not_finite",
        "wages_paid",
    ),
    "payroll-wages-Infinity": Row(
        "payroll",
        _set_field("payroll", "wages_paid", "Infinity"),
        "not_finite",
        "wages_paid",
    ),
    "payroll-wages-1e400": Row(
        "payroll",
        _set_field("payroll", "wages_payable", "1e400"),
        "not_finite",
        "wages_payable",
    ),
    "payroll-wages-negative": Row(
        "payroll",
        _set_field("payroll", "wages_paid", "-5"),
        "greater_than_or_equal_to",
        "wages_paid",
    ),
    "payroll-wages-text": Row(
        "payroll",
        _set_field("payroll", "wages_paid", "abc"),
        "wrong_type",
        "wages_paid",
    ),
    "payroll-wages-thousands": Row(
        "payroll",
        _set_field("payroll", "wages_paid", '"1,000"'),
        "wrong_type",
        "wages_paid",
    ),
    "payroll-wages-empty": Row(
        "payroll",
        _set_field("payroll", "wages_paid", ""),
        "missing_value",
        "wages_paid",
    ),
    "payroll-wages-nan": Row(
        "payroll",
        _set_field("payroll", "wages_paid", "NaN"),
        "missing_value",
        "wages_paid",
    ),
    "payroll-headcount-fraction": Row(
        "payroll",
        _set_field("payroll", "insured_headcount", "3.5"),
        "wrong_type",
        "insured_headcount",
    ),
    "payroll-headcount-huge": Row(
        "payroll",
        _set_field("payroll", "insured_headcount", "99999999999999999999"),
        "wrong_type",
        "insured_headcount",
    ),
    "payroll-headcount-negative": Row(
        "payroll",
        _set_field("payroll", "insured_headcount", "-1"),
        "greater_than_or_equal_to",
        "insured_headcount",
    ),
    "payroll-delay-inf": Row(
        "payroll",
        _set_field("payroll", "pay_delay_days", "-inf"),
        "not_finite",
        "pay_delay_days",
    ),
    "payroll-si-due-inf": Row(
        "payroll",
        _set_field("payroll", "social_insurance_due", "INF"),
        "not_finite",
        "social_insurance_due",
    ),
    "payroll-duplicate": Row(
        "payroll", _duplicate("payroll"), "duplicate_key", "period"
    ),
    "payroll-unknown-enterprise": Row(
        "payroll",
        _set_field("payroll", "enterprise_id", NEW_CODE),
        "known_enterprise",
        "enterprise_id",
    ),
    "payroll-code-lowercase": Row(
        "payroll",
        _set_raw("payroll", lambda r: r[:18].lower() + r[18:]),
        "uscc_check_character",
        "enterprise_id",
    ),
    "payroll-before-established": Row(
        "payroll", _before_established, "period_not_before_established", "period"
    ),
    # enterprises
    "enterprises-established-2999": Row(
        "enterprises",
        _set_field("enterprises", "established", "2999-01-01"),
        "established_not_after_last_period",
        "established",
    ),
    "enterprises-established-1500": Row(
        "enterprises",
        _set_field("enterprises", "established", "1500-01-01"),
        "date_out_of_range",
        "established",
    ),
    "enterprises-established-0201": Row(
        "enterprises",
        _set_field("enterprises", "established", "0201-05-01"),
        "date_out_of_range",
        "established",
    ),
    "enterprises-established-garbage": Row(
        "enterprises",
        _set_field("enterprises", "established", "2020-13-45"),
        "wrong_type",
        "established",
    ),
    "enterprises-established-empty": Row(
        "enterprises",
        _set_field("enterprises", "established", ""),
        "missing_value",
        "established",
    ),
    "enterprises-region-full-width": Row(
        "enterprises",
        _set_field("enterprises", "region", "３３０５０２"),
        "region_code",
        "region",
    ),
    "enterprises-region-short": Row(
        "enterprises",
        _set_field("enterprises", "region", "33050"),
        "region_code",
        "region",
    ),
    "enterprises-region-newline": Row(
        "enterprises",
        _set_field("enterprises", "region", '"330502\n"'),
        "malformed_line",
        None,
    ),
    "enterprises-industry": Row(
        "enterprises", _set_field("enterprises", "industry", "Z"), "isin", "industry"
    ),
    "enterprises-capital-inf": Row(
        "enterprises",
        _set_field("enterprises", "registered_capital", "inf"),
        "not_finite",
        "registered_capital",
    ),
    "enterprises-capital-negative": Row(
        "enterprises",
        _set_field("enterprises", "registered_capital", "-1"),
        "greater_than_or_equal_to",
        "registered_capital",
    ),
    "enterprises-duplicate": Row(
        "enterprises", _duplicate("enterprises"), "duplicate_key", "enterprise_id"
    ),
    "enterprises-extra-field": Row(
        "enterprises",
        _set_raw("enterprises", lambda r: r + b",,"),
        "malformed_line",
        None,
    ),
    # tax
    "tax-invoice-inf": Row(
        "tax",
        _set_field("tax", "invoice_amount", "inf"),
        "not_finite",
        "invoice_amount",
    ),
    "tax-vat-negative": Row(
        "tax",
        _set_field("tax", "vat_paid", "-1"),
        "greater_than_or_equal_to",
        "vat_paid",
    ),
    "tax-arrears-1e400": Row(
        "tax", _set_field("tax", "tax_arrears", "1e400"), "not_finite", "tax_arrears"
    ),
    "tax-iit-text": Row(
        "tax", _set_field("tax", "iit_withheld", "x"), "wrong_type", "iit_withheld"
    ),
    "tax-extra-field": Row(
        "tax", _set_raw("tax", lambda r: r + b",1"), "malformed_line", None
    ),
    "tax-period-0001": Row(
        "tax",
        _set_field("tax", "period", "0001-01"),
        "period_not_before_floor",
        "period",
    ),
    # signals
    "signals-kwh-Infinity": Row(
        "signals",
        _set_field("signals", "electricity_kwh", "Infinity"),
        "not_finite",
        "electricity_kwh",
    ),
    "signals-complaints-fraction": Row(
        "signals",
        _set_field("signals", "complaints", "1.5"),
        "wrong_type",
        "complaints",
    ),
    "signals-complaints-negative": Row(
        "signals",
        _set_field("signals", "complaints", "-1"),
        "greater_than_or_equal_to",
        "complaints",
    ),
    "signals-lawsuits-exponent": Row(
        "signals", _set_field("signals", "lawsuits", "1e30"), "wrong_type", "lawsuits"
    ),
    "signals-period-future": Row(
        "signals",
        _set_field("signals", "period", "2046-01"),
        "period_not_in_future",
        "period",
    ),
    "signals-undecodable": Row(
        "signals", _set_raw("signals", lambda r: b"\x80" + r), "undecodable", None
    ),
    # events
    "events-workers-zero": Row(
        "events",
        _set_field("events", "workers_affected", "0"),
        "greater_than_or_equal_to",
        "workers_affected",
    ),
    "events-amount-zero": Row(
        "events",
        _set_field("events", "amount_owed", "0"),
        "greater_than",
        "amount_owed",
    ),
    "events-amount-inf": Row(
        "events",
        _set_field("events", "amount_owed", "inf"),
        "not_finite",
        "amount_owed",
    ),
    "events-period-0001": Row(
        "events",
        _set_field("events", "period", "0001-01"),
        "period_not_before_floor",
        "period",
    ),
    "events-unknown-enterprise": Row(
        "events",
        _set_field("events", "enterprise_id", NEW_CODE),
        "known_enterprise",
        "enterprise_id",
    ),
}


def _run(root: Path, tmp: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    with anxin.config_context(today=TODAY):
        code = main(
            [
                "validate",
                str(root),
                "--report",
                str(tmp / "report.json"),
                "--quarantine-dir",
                str(tmp / "quarantine"),
            ]
        )
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text
    return code, text


def _copy(clean: Path, kind: str, tmp: Path) -> Path:
    root = tmp / "data"
    shutil.copytree(clean / kind, root)
    return root


@pytest.mark.parametrize("case", list(ROW_CASES))
def test_a_bad_value_is_quarantined_and_the_month_goes_on(
    case: str, clean: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = ROW_CASES[case]
    root = _copy(clean, "csv", tmp_path)
    raw = c.edit(root)
    code, text = _run(root, tmp_path, capsys)
    assert code == 0, text
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    hits = [
        b
        for b in report["breaches"]
        if b["table"] == c.table and b["rule"] == c.rule and b["column"] == c.column
    ]
    assert hits, (c.rule, report["breaches"])
    line = hits[0]["source_line"]
    if c.rule == "malformed_line" and b"\n" in raw:
        line = LINE  # the case that splits its own line in two
    assert line == LINE
    # conservation: nothing lost, for every table
    for table, n_in in report["rows_in"].items():
        assert n_in == report["rows_valid"][table] + report["rows_quarantined"][table]
        data_lines = [
            x
            for x in (root / f"{table}.csv").read_bytes().split(b"\n")[1:]
            if x.strip()
        ]
        assert n_in == len(data_lines), table
    # the quarantined line comes back byte for byte
    given = (tmp_path / "quarantine" / f"{c.table}.csv").read_bytes().split(b"\n")
    assert given[0] == _lines(root / f"{c.table}.csv")[0]
    assert raw.split(b"\n")[0] in given[1:]


@dataclasses.dataclass(frozen=True)
class Broken:
    """A structural case: exit 2, the message names the file and the fix."""

    edit: Callable[[Path], None]
    message: str


def _header_only(table: str) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / f"{table}.csv"
        path.write_bytes(_lines(path)[0] + b"\n")

    return edit


def _header(table: str, make: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / f"{table}.csv"
        _set_line(path, 1, make(_lines(path)[0]))

    return edit


BROKEN = {
    "payroll-header-only": Broken(
        _header_only("payroll"), r"payroll\.csv: no data rows .*required"
    ),
    "enterprises-header-only": Broken(
        _header_only("enterprises"), r"enterprises\.csv: no data rows"
    ),
    "payroll-empty-file": Broken(
        lambda r: (r / "payroll.csv").write_bytes(b""),
        r"payroll\.csv: the file is empty",
    ),
    "payroll-blank-file": Broken(
        lambda r: (r / "payroll.csv").write_bytes(b"\n \n"),
        r"payroll\.csv: the file is empty",
    ),
    "payroll-duplicate-header": Broken(
        _header("payroll", lambda h: h + b",period"),
        r"payroll\.csv: column 'period' appears twice in the header "
        r"\(columns 2 and 9\)",
    ),
    "payroll-missing-column": Broken(
        _header("payroll", lambda h: h.replace(b"wages_paid", b"paid")),
        r"payroll\.csv: column 'wages_paid' is missing",
    ),
    "tax-empty-column-name": Broken(
        _header("tax", lambda h: h.replace(b"vat_paid", b"")),
        r"tax\.csv: column 4 of the header has no name",
    ),
    "enterprises-no-valid-row": Broken(
        lambda r: (r / "enterprises.csv").write_bytes(
            _lines(r / "enterprises.csv")[0] + b"\nnot-a-code,C,330502,2020-01-01,1\n"
        ),
        r"enterprises\.csv: none of its 1 rows is valid",
    ),
    "payroll-missing-file": Broken(
        lambda r: (r / "payroll.csv").unlink(), r"required table 'payroll' not found"
    ),
    "payroll-two-files": Broken(
        lambda r: (r / "payroll.parquet").write_bytes(b"x"), r"table 'payroll' has both"
    ),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_a_table_that_cannot_be_read_stops_with_a_clear_message(
    case: str, clean: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(clean, "csv", tmp_path)
    BROKEN[case].edit(root)
    code, text = _run(root, tmp_path, capsys)
    assert code == 2, text
    assert re.search(BROKEN[case].message, text), text


def test_an_optional_table_may_be_header_only(
    clean: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(clean, "csv", tmp_path)
    _header_only("tax")(root)
    code, text = _run(root, tmp_path, capsys)
    assert code == 0, text
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    assert report["rows_in"]["tax"] == 0


def test_a_line_in_another_encoding_is_read_not_garbled(
    clean: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A UTF-8 file with one GBK line: each line in its own encoding."""
    root = _copy(clean, "csv", tmp_path)
    path = root / "enterprises.csv"
    lines = _lines(path)
    lines[0] += ",名称".encode()
    for i in range(1, len(lines)):
        if lines[i]:
            lines[i] += ",湖州某建筑有限公司".encode(
                "gbk" if i == LINE - 1 else "utf-8"
            )
    path.write_bytes(b"\n".join(lines))
    with anxin.config_context(today=TODAY):
        tables = anxin.load_tables(root)
        report = anxin.validate(tables)
    assert set(tables.enterprises["名称"].dropna()) == {"湖州某建筑有限公司"}
    assert report.recoded_lines == {"enterprises": 1}
    assert report.n_quarantined == 0


def _parquet_case(
    table: str, column: str, value: object, dtype: str | None = None
) -> Callable[[Path], None]:
    def edit(root: Path) -> None:
        path = root / f"{table}.parquet"
        frame = pd.read_parquet(path)
        if dtype == "text":
            frame[column] = frame[column].astype("str")
        elif dtype is not None:
            frame[column] = frame[column].astype(dtype)
        frame.loc[LINE - 2, column] = value
        frame.to_parquet(path, index=False)

    return edit


PARQUET_CASES = {
    "wages-inf": (
        _parquet_case("payroll", "wages_paid", np.inf),
        "payroll",
        "not_finite",
        "wages_paid",
    ),
    "wages-minus-inf": (
        _parquet_case("payroll", "wages_paid", -np.inf),
        "payroll",
        "not_finite",
        "wages_paid",
    ),
    "headcount-fraction": (
        _parquet_case("payroll", "insured_headcount", 3.5, "float64"),
        "payroll",
        "wrong_type",
        "insured_headcount",
    ),
    "headcount-nan": (
        _parquet_case("payroll", "insured_headcount", np.nan, "float64"),
        "payroll",
        "missing_value",
        "insured_headcount",
    ),
    "period-0001": (
        _parquet_case("payroll", "period", "0001-01"),
        "payroll",
        "period_not_before_floor",
        "period",
    ),
    "established-2999": (
        _parquet_case("enterprises", "established", pd.Timestamp("2262-04-01")),
        "enterprises",
        "established_not_after_last_period",
        "established",
    ),
    "established-as-text-1500": (
        _parquet_case("enterprises", "established", "1500-01-01", "text"),
        "enterprises",
        "date_out_of_range",
        "established",
    ),
    "capital-inf": (
        _parquet_case("enterprises", "registered_capital", np.inf),
        "enterprises",
        "not_finite",
        "registered_capital",
    ),
}


@pytest.mark.parametrize("case", list(PARQUET_CASES))
def test_parquet_values_break_the_same_rules(
    case: str, clean: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    edit, table, rule, column = PARQUET_CASES[case]
    root = _copy(clean, "parquet", tmp_path)
    edit(root)
    code, text = _run(root, tmp_path, capsys)
    assert code == 0, text
    report = json.loads((tmp_path / "report.json").read_text("utf-8"))
    hits = [
        b
        for b in report["breaches"]
        if (b["table"], b["rule"], b["column"]) == (table, rule, column)
    ]
    assert [h["source_row"] for h in hits] == [LINE - 1]
    for t, n_in in report["rows_in"].items():
        assert n_in == report["rows_valid"][t] + report["rows_quarantined"][t]


def test_a_corrupt_parquet_file_stops_with_a_clear_message(
    clean: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _copy(clean, "parquet", tmp_path)
    (root / "tax.parquet").write_bytes(b"PAR1 not really")
    code, text = _run(root, tmp_path, capsys)
    assert code == 2
    assert "tax.parquet: cannot be read as Parquet" in text


def test_the_corpus_is_large_enough() -> None:
    cases = len(ROW_CASES) + len(BROKEN) + len(PARQUET_CASES) + 3
    assert cases >= 60
    tables = {c.table for c in ROW_CASES.values()}
    assert tables == set(FIELDS)
