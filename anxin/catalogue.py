"""The feature catalogue: every feature's meaning, reason group and sentence.

Public as :data:`anxin.CATALOGUE` and :class:`anxin.Feature`. Reason templates
are Python format strings. Besides any feature name of the same row they may use:

``{value}``   the feature's own value
``{pct}``     ``abs(value)`` as a whole percentage, e.g. ``45%``
``{dir_zh}``  上升 / 下降 by the sign of ``value``
``{dir_en}``  ``up`` / ``down`` by the sign of ``value``
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any, Literal

__all__ = ["CATALOGUE", "GROUPS", "Feature", "render_reason"]

#: Reason group -> (Chinese, English) label.
GROUPS: dict[str, tuple[str, str]] = {
    "social_insurance": ("社保缴纳", "Social insurance"),
    "wages": ("工资发放", "Wage payment"),
    "headcount": ("参保人数", "Headcount"),
    "tax": ("税务", "Tax"),
    "revenue": ("经营收入", "Revenue"),
    "electricity": ("用电", "Electricity"),
    "complaints": ("投诉举报", "Complaints"),
    "litigation": ("劳动争议诉讼", "Litigation"),
    "history": ("欠薪历史", "Arrears history"),
    "profile": ("企业概况", "Profile"),
    "calendar": ("时间因素", "Calendar"),
}


@dataclasses.dataclass(frozen=True)
class Feature:
    """One feature of the monthly panel.

    Attributes
    ----------
    name : str
        Stable column name.
    group : str
        Reason group, a key of :data:`GROUPS`.
    zh, en : str
        Description in Chinese and English.
    unit : str
        Unit of the value (``ratio`` means a fraction, 0.45 = 45%).
    reason_zh, reason_en : str
        Templates turning the value into a reason sentence.
    kind : {"numeric", "categorical"}
        Categoricals are pandas ``category`` columns; numerics are float32.
    missing : {"unknown", "never", "not_applicable"}
        What a missing value means: ``unknown`` (the feed has no data for
        the month: "数据缺失 / no data"), ``never`` (the event has not
        happened, e.g. no earlier arrears case: told by ``missing_zh`` /
        ``missing_en``), ``not_applicable`` (the quantity does not apply, e.g.
        pay delays of a firm without a wage account).
    missing_zh, missing_en : str
        The sentence for a ``never`` value.
    context : str
        Another feature that says why the value matters (its change against
        the enterprise's own past), told by ``context_zh`` / ``context_en``
        (fields ``{dir_zh}``, ``{dir_en}``, ``{pct}`` of that feature) after
        the reason when it is known.
    """

    name: str
    group: str
    zh: str
    en: str
    unit: str
    reason_zh: str
    reason_en: str
    kind: Literal["numeric", "categorical"] = "numeric"
    missing: Literal["unknown", "never", "not_applicable"] = "unknown"
    missing_zh: str = ""
    missing_en: str = ""
    context: str = ""
    context_zh: str = ""
    context_en: str = ""


def _f(
    name: str,
    group: str,
    zh: str,
    en: str,
    unit: str,
    reason_zh: str,
    reason_en: str,
    kind: Literal["numeric", "categorical"] = "numeric",
    **semantics: str,
) -> Feature:
    return Feature(name, group, zh, en, unit, reason_zh, reason_en, kind, **semantics)  # type: ignore[arg-type]


_OWN_PAST_ZH = "，比本企业前12个月均值{dir_zh}{pct}"
_OWN_PAST_EN = ", {dir_en} {pct} against its own 12-month mean"


def _chg(name: str, group: str, what_zh: str, what_en: str, k: int) -> Feature:
    span_zh = "上月" if k == 1 else f"{k}个月前"
    span_en = "a month earlier" if k == 1 else f"{k} months earlier"
    return _f(
        name,
        group,
        f"{what_zh}较{span_zh}变化率",
        f"Change in {what_en} against {span_en}",
        "ratio",
        f"{what_zh}较{span_zh}{{dir_zh}}{{pct}}",
        f"{what_en[0].upper() + what_en[1:]} {{dir_en}} {{pct}} on {span_en}",
    )


def _rel(name: str, group: str, what_zh: str, what_en: str) -> Feature:
    return _f(
        name,
        group,
        f"{what_zh}相对本企业前12个月均值的偏离",
        f"{what_en[0].upper() + what_en[1:]} relative to the enterprise's own "
        "mean of the previous 12 months",
        "ratio",
        f"{what_zh}比本企业前12个月均值{{dir_zh}}{{pct}}",
        f"{what_en[0].upper() + what_en[1:]} {{dir_en}} {{pct}} against its own "
        "12-month mean",
    )


def _count(
    name: str, group: str, what_zh: str, what_en: str, k: int, unit: str = "count"
) -> Feature:
    return _f(
        name,
        group,
        f"近{k}个月{what_zh}",
        f"{what_en} in the last {k} months",
        unit,
        f"近{k}个月{what_zh}{{value:.0f}}{'件' if unit == 'count' else '个月'}",
        f"{what_en} in the last {k} months: {{value:.0f}}",
    )


_FEATURES: list[Feature] = [
    # headcount ---------------------------------------------------------------
    _f(
        "headcount",
        "headcount",
        "参保人数",
        "Insured headcount",
        "persons",
        "参保人数{value:.0f}人",
        "{value:.0f} insured workers",
        context="headcount_rel_mean_12m",
        context_zh=_OWN_PAST_ZH,
        context_en=_OWN_PAST_EN,
    ),
    _chg("headcount_chg_1m", "headcount", "参保人数", "insured headcount", 1),
    _chg("headcount_chg_3m", "headcount", "参保人数", "insured headcount", 3),
    _chg("headcount_chg_6m", "headcount", "参保人数", "insured headcount", 6),
    _chg("headcount_chg_12m", "headcount", "参保人数", "insured headcount", 12),
    _rel("headcount_rel_mean_12m", "headcount", "参保人数", "insured headcount"),
    _f(
        "headcount_vol_6m",
        "headcount",
        "近6个月参保人数月变化率的标准差",
        "Volatility (std) of monthly headcount change over 6 months",
        "ratio",
        "近6个月参保人数波动{pct}",
        "Headcount swings of {pct} a month over 6 months",
    ),
    _f(
        "headcount_peer_chg_1m",
        "headcount",
        "参保人数月变化率减去同行业同地区企业的平均变化率",
        "Headcount change in the month minus the mean change of peers "
        "(same industry and region)",
        "ratio",
        "参保人数变化比同地区同行业平均{dir_zh}{pct}",
        "Headcount change {dir_en} {pct} against same-industry peers in the region",
    ),
    _f(
        "headcount_peer_chg_3m",
        "headcount",
        "参保人数3个月变化率减去同行业同地区企业的平均变化率",
        "3-month headcount change minus the mean of peers",
        "ratio",
        "近3个月参保人数变化比同地区同行业平均{dir_zh}{pct}",
        "3-month headcount change {dir_en} {pct} against peers in the region",
    ),
    # wages -------------------------------------------------------------------
    _f(
        "wages_per_head",
        "wages",
        "人均应发工资",
        "Wages payable per insured worker",
        "CNY",
        "人均应发工资{value:,.0f}元",
        "Wages of {value:,.0f} CNY per worker",
        missing="not_applicable",
        context="wages_per_head_chg_12m",
        context_zh="，较12个月前{dir_zh}{pct}",
        context_en=", {dir_en} {pct} on a year earlier",
    ),
    _chg("wages_per_head_chg_3m", "wages", "人均工资", "wages per worker", 3),
    _chg("wages_per_head_chg_12m", "wages", "人均工资", "wages per worker", 12),
    _chg("wages_payable_chg_1m", "wages", "应发工资总额", "total wages payable", 1),
    _chg("wages_payable_chg_12m", "wages", "应发工资总额", "total wages payable", 12),
    _rel("wages_payable_rel_mean_12m", "wages", "应发工资总额", "total wages payable"),
    _f(
        "wage_shortfall_share",
        "wages",
        "当月工资未足额发放比例 (1-实发/应发)",
        "Share of wages payable not paid this month",
        "ratio",
        "当月工资未足额发放，缺口{pct}",
        "Wages short-paid this month ({pct} unpaid)",
    ),
    _f(
        "wage_shortfall_mean_3m",
        "wages",
        "近3个月平均工资缺口比例",
        "Mean share of wages unpaid over 3 months",
        "ratio",
        "近3个月工资平均缺口{pct}",
        "On average {pct} of wages unpaid over 3 months",
    ),
    _f(
        "wage_shortfall_months_6m",
        "wages",
        "近6个月工资未足额发放的月数",
        "Months with wages short-paid (>1%) in the last 6",
        "months",
        "近6个月有{value:.0f}个月工资未足额发放",
        "Wages short-paid in {value:.0f} of the last 6 months",
    ),
    _f(
        "wage_shortfall_streak",
        "wages",
        "连续工资未足额发放月数",
        "Consecutive months up to now with wages short-paid",
        "months",
        "已连续{value:.0f}个月工资未足额发放",
        "Wages short-paid for {value:.0f} consecutive months",
    ),
    _f(
        "months_since_full_wages",
        "wages",
        "距上次足额发放工资的月数 (12个月内)",
        "Months since wages were last paid in full (within 12 months)",
        "months",
        "已{value:.0f}个月未足额发放工资",
        "{value:.0f} months since wages were last paid in full",
        missing="never",
        missing_zh="近12个月工资从未足额发放",
        missing_en="Wages not paid in full in any of the last 12 months",
    ),
    _f(
        "wage_shortfall_vs_own_12m",
        "wages",
        "当月是否工资未足额发放 (1/0) 减去本企业前12个月的未足额月份占比",
        "Wages short-paid this month (1/0) minus its own 12-month share",
        "ratio",
        "当月工资发放偏离本企业常态：未足额发放频率较前12个月{dir_zh}{pct}",
        "Wage short-payment {dir_en} {pct} against its own 12-month rate",
    ),
    _f(
        "pay_delay_days",
        "wages",
        "工资延迟发放天数",
        "Days wages were paid late",
        "days",
        "工资延迟发放{value:.0f}天",
        "Wages paid {value:.0f} days late",
        missing="not_applicable",
    ),
    _f(
        "pay_delay_max_3m",
        "wages",
        "近3个月最长工资延迟天数",
        "Longest pay delay in the last 3 months",
        "days",
        "近3个月工资最长延迟{value:.0f}天",
        "Pay delayed up to {value:.0f} days in the last 3 months",
        missing="not_applicable",
    ),
    _f(
        "pay_delay_mean_6m",
        "wages",
        "近6个月平均工资延迟天数",
        "Mean pay delay over the last 6 months",
        "days",
        "近6个月工资平均延迟{value:.0f}天",
        "Pay delayed {value:.0f} days on average over 6 months",
        missing="not_applicable",
    ),
    _f(
        "pay_delay_months_over30_6m",
        "wages",
        "近6个月工资延迟超过30天的月数",
        "Months with pay more than 30 days late in the last 6",
        "months",
        "近6个月有{value:.0f}个月工资延迟超过30天",
        "Pay over 30 days late in {value:.0f} of the last 6 months",
        missing="not_applicable",
    ),
    _f(
        "pay_delay_vs_own_12m",
        "wages",
        "当月工资延迟天数减去本企业前12个月平均延迟天数",
        "Days paid late this month minus its own mean of the previous 12 months",
        "days",
        "工资延迟天数较本企业前12个月平均{value:+.0f}天",
        "Pay delay {value:+.0f} days against its own 12-month mean",
        missing="not_applicable",
    ),
    _f(
        "wages_paid_trend_6m",
        "wages",
        "近3个月实发工资均值较此前3个月的变化",
        "Mean wages paid in the last 3 months against the 3 before",
        "ratio",
        "近3个月实发工资较此前3个月{dir_zh}{pct}",
        "Wages paid {dir_en} {pct} in the last 3 months against the 3 before",
    ),
    # social insurance --------------------------------------------------------
    _f(
        "si_gap_share",
        "social_insurance",
        "当月社保欠缴比例 (1-实缴/应缴)",
        "Share of social insurance due not paid this month",
        "ratio",
        "当月社保欠缴{pct}",
        "Social insurance {pct} unpaid this month",
    ),
    _f(
        "si_gap_mean_3m",
        "social_insurance",
        "近3个月平均社保欠缴比例",
        "Mean share of social insurance unpaid over 3 months",
        "ratio",
        "近3个月社保平均欠缴{pct}",
        "On average {pct} of social insurance unpaid over 3 months",
    ),
    _f(
        "si_gap_months_3m",
        "social_insurance",
        "近3个月社保欠缴月数",
        "Months with social insurance underpaid (>1%) in the last 3",
        "months",
        "近3个月社保欠缴{value:.0f}个月，欠缴比例{si_gap_mean_3m:.0%}",
        "Social insurance underpaid in {value:.0f} of the last 3 months "
        "({si_gap_mean_3m:.0%} unpaid)",
    ),
    _f(
        "si_gap_months_6m",
        "social_insurance",
        "近6个月社保欠缴月数",
        "Months with social insurance underpaid in the last 6",
        "months",
        "近6个月社保欠缴{value:.0f}个月",
        "Social insurance underpaid in {value:.0f} of the last 6 months",
    ),
    _f(
        "si_gap_months_12m",
        "social_insurance",
        "近12个月社保欠缴月数",
        "Months with social insurance underpaid in the last 12",
        "months",
        "近12个月社保欠缴{value:.0f}个月",
        "Social insurance underpaid in {value:.0f} of the last 12 months",
    ),
    _f(
        "si_gap_streak",
        "social_insurance",
        "连续社保欠缴月数",
        "Consecutive months up to now with social insurance underpaid",
        "months",
        "已连续{value:.0f}个月社保欠缴",
        "Social insurance underpaid for {value:.0f} consecutive months",
    ),
    _f(
        "months_since_full_si",
        "social_insurance",
        "距上次足额缴纳社保的月数 (12个月内)",
        "Months since social insurance was last paid in full (within 12 months)",
        "months",
        "已{value:.0f}个月未足额缴纳社保",
        "{value:.0f} months since social insurance was last paid in full",
        missing="never",
        missing_zh="近12个月社保从未足额缴纳",
        missing_en="Social insurance not paid in full in any of the last 12 months",
    ),
    _f(
        "si_gap_vs_own_12m",
        "social_insurance",
        "当月是否社保欠缴 (1/0) 减去本企业前12个月的欠缴月份占比",
        "Social insurance underpaid this month (1/0) minus its own 12-month share",
        "ratio",
        "当月社保缴纳偏离本企业常态：欠缴频率较前12个月{dir_zh}{pct}",
        "Social insurance underpayment {dir_en} {pct} against its own 12-month rate",
    ),
    _chg(
        "si_paid_chg_3m", "social_insurance", "社保实缴金额", "social insurance paid", 3
    ),
    # tax ---------------------------------------------------------------------
    _f(
        "tax_arrears",
        "tax",
        "欠税余额",
        "Outstanding tax arrears",
        "CNY",
        "欠税余额{value:,.0f}元",
        "Tax arrears of {value:,.0f} CNY",
        context="tax_arrears_to_revenue",
        context_zh="，相当于近3个月月均开票的{pct}",
        context_en=", {pct} of the last 3 months' mean invoicing",
    ),
    _f(
        "tax_arrears_to_revenue",
        "tax",
        "欠税余额占近3个月月均开票额的比例",
        "Tax arrears relative to mean monthly invoicing (3 months)",
        "ratio",
        "欠税余额相当于月均开票额的{pct}",
        "Tax arrears equal {pct} of a month's invoicing",
    ),
    _f(
        "tax_arrears_growth_3m",
        "tax",
        "近3个月欠税增加额占月均开票额的比例",
        "Growth of tax arrears over 3 months relative to mean monthly invoicing",
        "ratio",
        "近3个月欠税{dir_zh}，相当于月均开票额的{pct}",
        "Tax arrears {dir_en} by {pct} of a month's invoicing in 3 months",
    ),
    _f(
        "tax_arrears_months_6m",
        "tax",
        "近6个月存在欠税的月数",
        "Months with tax arrears in the last 6",
        "months",
        "近6个月有{value:.0f}个月存在欠税",
        "Tax arrears outstanding in {value:.0f} of the last 6 months",
    ),
    _chg("iit_chg_3m", "tax", "个税代扣代缴额", "income tax withheld", 3),
    _f(
        "tax_months_reported_12m",
        "tax",
        "近12个月有税务数据的月数",
        "Months with tax data in the last 12",
        "months",
        "近12个月仅{value:.0f}个月有税务数据",
        "Tax data for only {value:.0f} of the last 12 months",
    ),
    # revenue -----------------------------------------------------------------
    _f(
        "invoice_amount",
        "revenue",
        "当月开票金额",
        "Invoiced sales this month",
        "CNY",
        "当月开票{value:,.0f}元",
        "Invoiced {value:,.0f} CNY this month",
        context="invoice_rel_mean_12m",
        context_zh=_OWN_PAST_ZH,
        context_en=_OWN_PAST_EN,
    ),
    _f(
        "revenue_per_head",
        "revenue",
        "人均开票金额",
        "Invoiced sales per worker",
        "CNY",
        "人均开票{value:,.0f}元",
        "Invoicing of {value:,.0f} CNY per worker",
        context="invoice_rel_mean_12m",
        context_zh="，开票总额" + _OWN_PAST_ZH.removeprefix("，"),
        context_en=", invoicing {dir_en} {pct} against its own 12-month mean",
    ),
    _chg("invoice_chg_1m", "revenue", "开票金额", "invoiced sales", 1),
    _chg("invoice_chg_3m", "revenue", "开票金额", "invoiced sales", 3),
    _chg("invoice_chg_12m", "revenue", "开票金额", "invoiced sales", 12),
    _rel("invoice_rel_mean_12m", "revenue", "开票金额", "invoiced sales"),
    _f(
        "invoice_trend_6m",
        "revenue",
        "近3个月开票均值较此前3个月的变化",
        "Mean invoicing in the last 3 months against the 3 before",
        "ratio",
        "近3个月开票额较此前3个月{dir_zh}{pct}",
        "Invoicing {dir_en} {pct} in the last 3 months against the 3 before",
    ),
    _f(
        "invoice_vol_6m",
        "revenue",
        "近6个月开票金额的变异系数",
        "Coefficient of variation of invoicing over 6 months",
        "ratio",
        "近6个月开票额波动{pct}",
        "Invoicing varies by {pct} over 6 months",
    ),
    _chg("vat_chg_3m", "revenue", "增值税缴纳额", "VAT paid", 3),
    _chg("vat_chg_12m", "revenue", "增值税缴纳额", "VAT paid", 12),
    _rel("vat_rel_mean_12m", "revenue", "增值税缴纳额", "VAT paid"),
    _f(
        "vat_to_invoice",
        "revenue",
        "增值税缴纳额占开票金额比例",
        "VAT paid as a share of invoiced sales",
        "ratio",
        "增值税缴纳仅为开票额的{pct}",
        "VAT paid is {pct} of invoiced sales",
    ),
    # electricity -------------------------------------------------------------
    _f(
        "electricity_kwh",
        "electricity",
        "当月用电量",
        "Electricity used this month",
        "kWh",
        "当月用电{value:,.0f}千瓦时",
        "{value:,.0f} kWh used this month",
        context="electricity_rel_mean_12m",
        context_zh=_OWN_PAST_ZH,
        context_en=_OWN_PAST_EN,
    ),
    _chg("electricity_chg_1m", "electricity", "用电量", "electricity use", 1),
    _chg("electricity_chg_3m", "electricity", "用电量", "electricity use", 3),
    _chg("electricity_chg_12m", "electricity", "用电量", "electricity use", 12),
    _rel("electricity_rel_mean_12m", "electricity", "用电量", "electricity use"),
    _f(
        "electricity_drop50_months_6m",
        "electricity",
        "近6个月用电量环比下降超过50%的月数",
        "Months in the last 6 with electricity down more than 50% on the month",
        "months",
        "近6个月有{value:.0f}个月用电量骤降超过50%",
        "Electricity fell by more than half in {value:.0f} of the last 6 months",
    ),
    _f(
        "electricity_months_reported_12m",
        "electricity",
        "近12个月有用电数据的月数",
        "Months with electricity data in the last 12",
        "months",
        "近12个月仅{value:.0f}个月有用电数据",
        "Electricity data for only {value:.0f} of the last 12 months",
    ),
    # complaints --------------------------------------------------------------
    _f(
        "complaints_1m",
        "complaints",
        "当月投诉举报件数",
        "Complaints about the enterprise this month",
        "count",
        "当月投诉举报{value:.0f}件",
        "{value:.0f} complaints this month",
    ),
    _count("complaints_3m", "complaints", "投诉举报", "Complaints", 3),
    _count("complaints_6m", "complaints", "投诉举报", "Complaints", 6),
    _count("complaints_12m", "complaints", "投诉举报", "Complaints", 12),
    _f(
        "complaints_vs_own_12m",
        "complaints",
        "当月投诉举报件数减去本企业前12个月月均件数",
        "Complaints this month minus its own monthly mean of the previous 12",
        "count",
        "当月投诉举报较本企业前12个月月均{value:+.1f}件",
        "Complaints this month {value:+.1f} against its own 12-month mean",
    ),
    _f(
        "complaints_no_case_2m",
        "complaints",
        "近2个月投诉举报件数，不计欠薪案件确认当月及前1个月的",
        "Complaints in 2 months, less those in a case's month or the month before",
        "count",
        "近2个月有{value:.0f}件投诉举报尚无已确认欠薪案件对应",
        "{value:.0f} complaints in 2 months with no confirmed arrears case behind them",
    ),
    # litigation --------------------------------------------------------------
    _count("lawsuits_3m", "litigation", "新增劳动争议/诉讼", "New labour disputes", 3),
    _count("lawsuits_6m", "litigation", "新增劳动争议/诉讼", "New labour disputes", 6),
    _count(
        "lawsuits_12m", "litigation", "新增劳动争议/诉讼", "New labour disputes", 12
    ),
    # history -----------------------------------------------------------------
    _f(
        "past_arrears_count",
        "history",
        "此前已确认欠薪次数",
        "Confirmed wage-arrears cases up to this month",
        "count",
        "此前已确认欠薪{value:.0f}次",
        "{value:.0f} earlier confirmed arrears cases",
    ),
    _f(
        "months_since_last_arrears",
        "history",
        "距上次确认欠薪的月数",
        "Months since the last confirmed arrears case",
        "months",
        "{value:.0f}个月前曾发生欠薪",
        "Arrears confirmed {value:.0f} months ago",
        missing="never",
        missing_zh="此前无确认欠薪记录（模型结合其他信号仍判断风险上升）",
        missing_en="No earlier confirmed arrears case (the model still reads "
        "the other signals as raising the risk)",
    ),
    _f(
        "past_arrears_workers",
        "history",
        "此前欠薪涉及人数合计",
        "Workers affected by earlier confirmed arrears",
        "persons",
        "此前欠薪共涉及{value:.0f}人",
        "Earlier arrears affected {value:.0f} workers",
    ),
    # profile -----------------------------------------------------------------
    _f(
        "firm_age_months",
        "profile",
        "企业成立月数",
        "Age of the enterprise",
        "months",
        "企业成立{value:.0f}个月",
        "Enterprise {value:.0f} months old",
    ),
    _f(
        "registered_capital",
        "profile",
        "注册资本",
        "Registered capital",
        "万元",
        "注册资本{value:,.0f}万元",
        "Registered capital {value:,.0f}0k CNY",
    ),
    _f(
        "months_active_12m",
        "profile",
        "近12个月有工资社保记录的月数",
        "Months with payroll records in the last 12",
        "months",
        "近12个月仅{value:.0f}个月有工资社保记录",
        "Payroll records for {value:.0f} of the last 12 months",
    ),
    _f(
        "industry",
        "profile",
        "行业门类 (GB/T 4754)",
        "Industry section (GB/T 4754)",
        "code",
        "所属行业：{value}",
        "Industry section {value}",
        "categorical",
    ),
    _f(
        "region",
        "profile",
        "所在区县 (行政区划代码)",
        "County (division code)",
        "code",
        "所在区县：{value}",
        "Located in {value}",
        "categorical",
    ),
    # calendar ----------------------------------------------------------------
    _f(
        "month_of_year",
        "calendar",
        "月份",
        "Month of the year",
        "month",
        "{value:.0f}月",
        "Month {value:.0f}",
    ),
    _f(
        "months_to_spring_festival",
        "calendar",
        "距春节的月数",
        "Months to the next Spring Festival",
        "months",
        "距春节{value:.0f}个月（年关欠薪高发期）",
        "{value:.0f} months to Spring Festival (peak arrears season)",
    ),
]

#: Feature name -> :class:`Feature`, in panel column order.
CATALOGUE: dict[str, Feature] = {f.name: f for f in _FEATURES}


class _Row(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def render_reason(
    feature: Feature, value: Any, row: Mapping[str, Any] | None = None
) -> tuple[str, str]:
    """Turn a feature value into its (Chinese, English) reason sentence.

    Parameters
    ----------
    feature : Feature
    value : number or str
        The enterprise's value of ``feature``.
    row : mapping, optional
        Other feature values of the same enterprise, for templates that
        mention them.

    Examples
    --------
    >>> zh, en = render_reason(CATALOGUE["si_gap_months_3m"], 2.0,
    ...                        {"si_gap_mean_3m": 0.45})
    >>> zh
    '近3个月社保欠缴2个月，欠缴比例45%'
    >>> en
    'Social insurance underpaid in 2 of the last 3 months (45% unpaid)'
    >>> render_reason(CATALOGUE["headcount_chg_1m"], -0.3)[0]
    '参保人数较上月下降30%'
    >>> render_reason(CATALOGUE["tax_arrears"], float("nan"))
    ('欠税余额：数据缺失', 'Outstanding tax arrears: no data')
    """
    fields = _Row(row or {})
    if value is None:
        value = float("nan")
    fields["value"] = value
    if feature.kind == "numeric":
        number = float(value)
        if math.isnan(number):
            return _missing(feature)
        fields.update(_signed(number))
    try:
        zh = feature.reason_zh.format_map(fields)
        en = feature.reason_en.format_map(fields)
    except (ValueError, TypeError):  # a companion value of the wrong type
        return f"{feature.zh}：{value}", f"{feature.en}: {value}"
    context = (row or {}).get(feature.context) if feature.context else None
    if context is not None and _finite(context):
        signed = _signed(float(context))
        zh += feature.context_zh.format_map(signed)
        en += feature.context_en.format_map(signed)
    return zh, en


def _finite(value: Any) -> bool:
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def _signed(number: float) -> dict[str, str]:
    finite = math.isfinite(number)
    return {
        "pct": f"{abs(number):.0%}" if finite else "?",
        "dir_zh": "上升" if number >= 0 else "下降",
        "dir_en": "up" if number >= 0 else "down",
    }


def _missing(feature: Feature) -> tuple[str, str]:
    """The sentence for a missing value, by what missing means for the feature."""
    if feature.missing == "never":
        return feature.missing_zh, feature.missing_en
    if feature.missing == "not_applicable":
        return f"{feature.zh}：不适用", f"{feature.en}: not applicable"
    return f"{feature.zh}：数据缺失", f"{feature.en}: no data"
