"""The data contract: one pandera model per input table.

A data directory holds one file per table, ``NAME.parquet`` or ``NAME.csv``.
These models are the single source of truth for the contract;
``docs/data-contract.md`` is generated from them (``make docs``)
and a test fails if the two disagree.

Rules that need another table (an enterprise must exist in ``enterprises``;
``established`` must not be after the data's last period) are added at
validation time by :func:`anxin.validate`, which also names each rule.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from anxin import _checks  # noqa: F401 (registers the contract's own checks)
from anxin._pandera import Series
from anxin._pandera import pandera as pa

__all__ = [
    "INDUSTRIES",
    "LEVELS",
    "OPTIONAL_TABLES",
    "REQUIRED_TABLES",
    "SCHEMAS",
    "TABLE_NAMES",
    "Enterprises",
    "Events",
    "Payroll",
    "Scores",
    "Signals",
    "Tax",
    "contract_markdown",
]

#: GB/T 4754-2017 sections (门类) A-T.
INDUSTRIES: dict[str, tuple[str, str]] = {
    "A": ("农、林、牧、渔业", "Agriculture, forestry, animal husbandry, fishery"),
    "B": ("采矿业", "Mining"),
    "C": ("制造业", "Manufacturing"),
    "D": ("电力、热力、燃气及水生产和供应业", "Utilities"),
    "E": ("建筑业", "Construction"),
    "F": ("批发和零售业", "Wholesale and retail"),
    "G": ("交通运输、仓储和邮政业", "Transport, storage and post"),
    "H": ("住宿和餐饮业", "Accommodation and catering"),
    "I": ("信息传输、软件和信息技术服务业", "Information technology"),
    "J": ("金融业", "Finance"),
    "K": ("房地产业", "Real estate"),
    "L": ("租赁和商务服务业", "Leasing and business services"),
    "M": ("科学研究和技术服务业", "Research and technical services"),
    "N": ("水利、环境和公共设施管理业", "Water, environment, public facilities"),
    "O": ("居民服务、修理和其他服务业", "Resident and repair services"),
    "P": ("教育", "Education"),
    "Q": ("卫生和社会工作", "Health and social work"),
    "R": ("文化、体育和娱乐业", "Culture, sports and entertainment"),
    "S": ("公共管理、社会保障和社会组织", "Public administration"),
    "T": ("国际组织", "International organisations"),
}

#: A month ``YYYY-MM`` (ASCII digits, the whole string: use ``fullmatch``).
PERIOD_PATTERN = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
#: The earliest date of establishment the contract accepts.
EARLIEST_DATE = "1900-01-01"


def _meta(zh: str, unit: str = "") -> dict[str, Any]:
    return {"zh": zh, "unit": unit}


# Contract rules beyond pandera's built-ins are registered as named checks in
# anxin._checks, so that models use them declaratively (``Field(period_format=())``)
# and breaches are reported under these names.


class _Contract(pa.DataFrameModel):
    class Config:
        #: turn CSV text into the declared types; failures are quarantined
        coerce = True
        #: keep extra columns (they are reported, never used)
        strict = False


class Enterprises(_Contract):
    """``enterprises`` -- one row per enterprise (企业基本信息)."""

    enterprise_id: Series[str] = pa.Field(
        uscc_check_character=(),
        description="Unified Social Credit Code, 18 characters with a valid "
        "check character (GB 32100-2015); unique",
        metadata=_meta("统一社会信用代码"),
    )
    industry: Series[str] = pa.Field(
        isin=list(INDUSTRIES),
        description="Industry section letter A-T (GB/T 4754)",
        metadata=_meta("行业门类"),
    )
    region: Series[str] = pa.Field(
        region_code=(),
        description="6-digit administrative division code",
        metadata=_meta("行政区划代码"),
    )
    established: Series[pd.Timestamp] = pa.Field(
        date_not_before=EARLIEST_DATE,
        description="Date of establishment; from 1900 on, not after the data's "
        "last period",
        metadata=_meta("成立日期", "date"),
    )
    registered_capital: Series[float] = pa.Field(
        finite=(),
        ge=0,
        nullable=True,
        description="Registered capital",
        metadata=_meta("注册资本", "万元 (10,000 CNY)"),
    )

    class Config:
        unique = ["enterprise_id"]  # noqa: RUF012 (pandera config)


class _Monthly(_Contract):
    """One row per enterprise and month."""

    enterprise_id: Series[str] = pa.Field(
        uscc_check_character=(),
        description="Enterprise code; must exist in enterprises",
        metadata=_meta("统一社会信用代码"),
    )
    period: Series[str] = pa.Field(
        period_format=(),
        period_not_in_future=(),
        period_not_before_floor=(),
        description="Month as YYYY-MM, from ANXIN_PERIOD_FLOOR (1990-01) to the "
        "current month; unique with enterprise_id",
        metadata=_meta("所属月份", "YYYY-MM"),
    )

    class Config:
        unique = ["enterprise_id", "period"]  # noqa: RUF012 (pandera config)


class Payroll(_Monthly):
    """``payroll`` -- 人社: payroll and social insurance, per enterprise-month."""

    insured_headcount: Series[np.int64] = pa.Field(
        finite=(),
        ge=0,
        description="Workers covered by social insurance",
        metadata=_meta("参保人数", "persons"),
    )
    wages_payable: Series[float] = pa.Field(
        finite=(), ge=0, description="Wages payable", metadata=_meta("应发工资", "CNY")
    )
    wages_paid: Series[float] = pa.Field(
        finite=(),
        ge=0,
        description="Wages actually paid",
        metadata=_meta("实发工资", "CNY"),
    )
    pay_delay_days: Series[float] = pa.Field(
        finite=(),
        ge=0,
        nullable=True,
        description="Days past the agreed pay day; usually known only for "
        "construction firms with a migrant-worker wage account",
        metadata=_meta("工资延迟发放天数", "days"),
    )
    social_insurance_due: Series[float] = pa.Field(
        finite=(),
        ge=0,
        description="Social insurance contributions due",
        metadata=_meta("社保应缴", "CNY"),
    )
    social_insurance_paid: Series[float] = pa.Field(
        finite=(),
        ge=0,
        description="Social insurance contributions paid",
        metadata=_meta("社保实缴", "CNY"),
    )


class Tax(_Monthly):
    """``tax`` -- 税务, per enterprise-month; a missing month is unknown."""

    invoice_amount: Series[float] = pa.Field(
        finite=(), ge=0, description="Invoiced sales", metadata=_meta("开票金额", "CNY")
    )
    vat_paid: Series[float] = pa.Field(
        finite=(),
        ge=0,
        description="Value-added tax paid",
        metadata=_meta("增值税缴纳", "CNY"),
    )
    iit_withheld: Series[float] = pa.Field(
        finite=(),
        ge=0,
        description="Individual income tax withheld for employees",
        metadata=_meta("个税代扣代缴", "CNY"),
    )
    tax_arrears: Series[float] = pa.Field(
        finite=(),
        ge=0,
        description="Outstanding tax owed at month end (a balance)",
        metadata=_meta("欠税余额", "CNY"),
    )


class Signals(_Monthly):
    """``signals`` -- other departments, per enterprise-month; all nullable."""

    electricity_kwh: Series[float] = pa.Field(
        finite=(),
        ge=0,
        nullable=True,
        description="Electricity consumed",
        metadata=_meta("用电量", "kWh"),
    )
    complaints: Series[pd.Int64Dtype] = pa.Field(
        finite=(),
        ge=0,
        nullable=True,
        description="Labour-inspection and 12345 complaints about the "
        "enterprise this month",
        metadata=_meta("投诉举报件数", "count"),
    )
    lawsuits: Series[pd.Int64Dtype] = pa.Field(
        finite=(),
        ge=0,
        nullable=True,
        description="New labour disputes or court cases this month",
        metadata=_meta("新增劳动争议/诉讼", "count"),
    )


class Events(_Contract):
    """``events`` -- confirmed wage-arrears cases (the labels)."""

    enterprise_id: Series[str] = pa.Field(
        uscc_check_character=(),
        description="Enterprise code; must exist in enterprises",
        metadata=_meta("统一社会信用代码"),
    )
    period: Series[str] = pa.Field(
        period_format=(),
        period_not_in_future=(),
        period_not_before_floor=(),
        description="Month the arrears were confirmed, YYYY-MM",
        metadata=_meta("欠薪确认月份", "YYYY-MM"),
    )
    workers_affected: Series[np.int64] = pa.Field(
        finite=(),
        ge=1,
        description="Workers owed wages",
        metadata=_meta("涉及人数", "persons"),
    )
    amount_owed: Series[float] = pa.Field(
        finite=(), gt=0, description="Wages owed", metadata=_meta("欠薪金额", "CNY")
    )


#: Warning levels, highest first (红/橙/黄 as in the 安薪云 risk map).
LEVELS: tuple[str, ...] = ("red", "orange", "yellow", "none")


class Scores(pa.DataFrameModel):
    """``scores`` -- the output of :func:`anxin.predict` / ``anxin score``.

    One row per active enterprise at ``as_of``. ``reasons`` (from
    :func:`anxin.explain`) is a list of dicts with keys ``group``,
    ``contribution``, ``feature``, ``value``, ``text_zh``, ``text_en``, or
    empty for enterprises that were not explained.
    """

    enterprise_id: Series[str] = pa.Field(metadata=_meta("统一社会信用代码"))
    as_of: Series[str] = pa.Field(
        str_matches=PERIOD_PATTERN.pattern, metadata=_meta("预警月份", "YYYY-MM")
    )
    risk_score: Series[float] = pa.Field(
        finite=(), ge=0, le=1, metadata=_meta("风险概率", "probability")
    )
    risk_level: Series[str] = pa.Field(isin=list(LEVELS), metadata=_meta("预警等级"))
    rank: Series[np.int64] = pa.Field(finite=(), ge=1, metadata=_meta("风险排名"))
    model_name: Series[str] = pa.Field(metadata=_meta("模型名称"))
    model_version: Series[str] = pa.Field(metadata=_meta("模型版本"))
    industry: Series[str] = pa.Field(nullable=True, metadata=_meta("行业门类"))
    region: Series[str] = pa.Field(nullable=True, metadata=_meta("行政区划代码"))

    class Config:
        coerce = True
        strict = False
        unique = ["enterprise_id", "as_of"]  # noqa: RUF012 (pandera config)


#: Table name -> model, in load order.
SCHEMAS: dict[str, type[pa.DataFrameModel]] = {
    "enterprises": Enterprises,
    "payroll": Payroll,
    "tax": Tax,
    "signals": Signals,
    "events": Events,
}
TABLE_NAMES: tuple[str, ...] = tuple(SCHEMAS)
REQUIRED_TABLES: tuple[str, ...] = ("enterprises", "payroll")
#: ``events`` is optional for scoring but required for training.
OPTIONAL_TABLES: tuple[str, ...] = ("tax", "signals", "events")

_TABLE_ZH = {
    "enterprises": "企业基本信息 (市场监管)",
    "payroll": "工资与社保 (人社)",
    "tax": "税务 (税务)",
    "signals": "其他部门信号 (电力、12345、法院)",
    "events": "已确认欠薪案件 (劳动监察)",
}


def _type_text(column: Any) -> str:
    dtype = str(column.dtype)
    if "datetime" in dtype:
        return "date"
    if "int" in dtype.lower():
        return "integer"
    if "float" in dtype:
        return "number"
    return "text"


def _rule_text(column: Any) -> str:
    parts = []
    if not column.nullable:
        parts.append("required")
    else:
        parts.append("nullable")
    for check in column.checks:
        stats = check.statistics or {}
        name = check.name
        if name == "greater_than_or_equal_to":
            parts.append(f">= {stats['min_value']}")
        elif name == "greater_than":
            parts.append(f"> {stats['min_value']}")
        elif name == "isin":
            values = sorted(stats["allowed_values"])
            parts.append(f"one of {values[0]}-{values[-1]}")
        elif name == "str_matches":
            parts.append(f"matches `{stats['pattern']}`")
        elif name == "finite":
            parts.append("finite")
        elif name == "date_not_before":
            parts.append(f"from {stats['min_value']}")
        elif name == "region_code":
            parts.append("6 ASCII digits")
        elif name == "period_not_before_floor":
            parts.append("not before the floor month")
        else:
            parts.append(name.replace("_", " "))
    if column.unique:
        parts.append("unique")
    return "; ".join(parts)


def contract_markdown() -> str:
    """Render the contract as Markdown (the body of ``docs/data-contract.md``)."""
    lines = [
        "# Data contract / 数据契约",
        "",
        "<!-- Generated by `python -m anxin._docs` (`make docs`) from "
        "anxin/schemas.py. Do not edit by hand: a test compares this file with "
        "the models. -->",
        "",
        "A data directory holds one file per table, `NAME.parquet` or "
        "`NAME.csv` (UTF-8, GBK or GB18030; detected, or pass `--encoding`). "
        f"Required tables: {', '.join(f'`{t}`' for t in REQUIRED_TABLES)}. "
        "`tax` and `signals` may be absent (a county without the feed); "
        "`events` is needed for training only.",
        "",
        "Periods are months written `YYYY-MM` (ASCII digits, nothing before or "
        "after). Numbers must be finite. Extra columns are kept and "
        "reported, never used. Row-level breaches are quarantined (see "
        "`docs/validation.md`); table-level breaches (a missing table or "
        "column, an unreadable file) stop with a `ContractError`.",
        "",
    ]
    for name, model in SCHEMAS.items():
        schema = model.to_schema()
        doc = (model.__doc__ or "").strip().splitlines()[0].split(" -- ", 1)[-1]
        lines += [f"## `{name}` — {_TABLE_ZH[name]}", "", doc[0].upper() + doc[1:], ""]
        lines += [
            "| column | 中文 | meaning | type | unit | rule |",
            "|---|---|---|---|---|---|",
        ]
        for col_name, column in schema.columns.items():
            meta = column.metadata or {}
            lines.append(
                f"| `{col_name}` | {meta.get('zh', '')} | {column.description} "
                f"| {_type_text(column)} | {meta.get('unit', '')} "
                f"| {_rule_text(column)} |"
            )
        unique = schema.unique
        if unique:
            lines += [
                "",
                f"Rows are unique on ({', '.join(unique)}); a repeated key is "
                "quarantined and the first row with it is kept.",
            ]
        lines.append("")
    lines += [
        "## Cross-table rules",
        "",
        "| rule | table | meaning |",
        "|---|---|---|",
        "| `known_enterprise` | payroll, tax, signals, events | `enterprise_id` "
        "exists among the valid rows of `enterprises` |",
        "| `established_not_after_last_period` | enterprises | `established` is "
        "not after the last valid payroll period |",
        "| `period_not_before_established` | payroll, tax, signals, events | "
        "`period` is not before the month the enterprise was established |",
        "| `period_not_in_future` | payroll, tax, signals, events | not after "
        "the current month (`ANXIN_TODAY` overrides it) |",
        "| `period_not_before_floor` | payroll, tax, signals, events | not before "
        "`ANXIN_PERIOD_FLOOR` (default `1990-01`) |",
        "",
        "## Industry sections (GB/T 4754)",
        "",
        "| code | 门类 | section |",
        "|---|---|---|",
    ]
    lines += [f"| {k} | {zh} | {en} |" for k, (zh, en) in INDUSTRIES.items()]
    return "\n".join(lines) + "\n"
