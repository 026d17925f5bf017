"""Reading data directories: formats, encodings, table-level errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from anxin import ContractError, Tables, load_tables, validate


def _small(tables: Tables) -> Tables:
    ids = tables.enterprises["enterprise_id"].iloc[:30]
    return Tables(
        **{
            n: f[f["enterprise_id"].isin(ids)].reset_index(drop=True)
            for n, f in tables.items()
        }
    )


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_validates_identically(
    tables: Tables, tmp_path: Path, fmt: str
) -> None:
    small = _small(tables)
    small.write(tmp_path, format=fmt)  # type: ignore[arg-type]
    loaded = load_tables(tmp_path)
    assert loaded.present() == small.present()
    report = validate(loaded)
    assert report.n_quarantined == 0
    for name, frame in small.items():
        got = report.tables[name]
        pd.testing.assert_frame_equal(
            got.reset_index(drop=True),
            validate(small).tables[name],
            check_dtype=False,
            check_exact=False,
            rtol=1e-9,
        )
        assert len(got) == len(frame)


@pytest.mark.parametrize("encoding", ["gbk", "gb18030", "utf-8"])
def test_csv_in_chinese_encodings_is_detected(
    tables: Tables, tmp_path: Path, encoding: str
) -> None:
    small = _small(tables)
    small.write(tmp_path, format="csv")
    ent = pd.read_csv(tmp_path / "enterprises.csv", dtype=str)
    ent["备注"] = "湖州市吴兴区"  # a Chinese extra column and value
    ent.to_csv(tmp_path / "enterprises.csv", index=False, encoding=encoding)
    loaded = load_tables(tmp_path)
    assert loaded.enterprises["备注"].iloc[0] == "湖州市吴兴区"
    assert validate(loaded).extra_columns == {"enterprises": ["备注"]}


def test_wrong_explicit_encoding_is_a_clear_error(
    tables: Tables, tmp_path: Path
) -> None:
    small = _small(tables)
    small.write(tmp_path, format="csv")
    ent = pd.read_csv(tmp_path / "enterprises.csv", dtype=str)
    ent["名称"] = "安吉县某建筑有限公司"
    ent.to_csv(tmp_path / "enterprises.csv", index=False, encoding="gbk")
    with pytest.raises(
        ContractError,
        match=r"enterprises.csv: the header \(line 1\) cannot be decoded as "
        r"utf-8.*--encoding",
    ):
        load_tables(tmp_path, encoding="utf-8")


def test_missing_required_table(tables: Tables, tmp_path: Path) -> None:
    _small(tables).write(tmp_path)
    (tmp_path / "payroll.parquet").unlink()
    with pytest.raises(ContractError, match="required table 'payroll' not found"):
        load_tables(tmp_path)


def test_optional_tables_may_be_missing(tables: Tables, tmp_path: Path) -> None:
    _small(tables).replace(tax=None, signals=None).write(tmp_path)
    loaded = load_tables(tmp_path)
    assert loaded.tax is None and loaded.signals is None


def test_two_files_for_one_table(tables: Tables, tmp_path: Path) -> None:
    small = _small(tables)
    small.write(tmp_path)
    small.payroll.to_csv(tmp_path / "payroll.csv", index=False)
    with pytest.raises(
        ContractError, match=r"has both payroll\.parquet and payroll\.csv"
    ):
        load_tables(tmp_path)


def test_unreadable_parquet(tables: Tables, tmp_path: Path) -> None:
    _small(tables).write(tmp_path)
    (tmp_path / "tax.parquet").write_bytes(b"not parquet")
    with pytest.raises(ContractError, match=r"tax\.parquet: cannot be read as Parquet"):
        load_tables(tmp_path)


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ContractError, match="not a directory"):
        load_tables(tmp_path / "nope")


def test_source_rows_refer_to_csv_lines(tables: Tables, tmp_path: Path) -> None:
    small = _small(tables)
    small.write(tmp_path, format="csv")
    lines = (tmp_path / "payroll.csv").read_text("utf-8").splitlines()
    lines[5] = lines[5].replace(lines[5].split(",")[1], "2025/01", 1)
    (tmp_path / "payroll.csv").write_text("\n".join(lines) + "\n", "utf-8")
    report = validate(load_tables(tmp_path))
    q = report.quarantine
    assert q["source_row"].tolist() == [5]  # line 6 of the file = data row 5
    assert q["value"].tolist() == ["2025/01"]
