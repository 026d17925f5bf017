"""Tests for anxin.cases.database: engines for store URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from anxin.cases import database


def test_postgres_url_uses_psycopg3() -> None:
    engine = database.make_engine("postgresql://u@localhost:1/db")
    assert engine.dialect.driver == "psycopg"
    engine.dispose()


def test_sqlite_file_gets_its_directory(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "cases.db"
    engine = database.make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    engine.dispose()
    assert path.is_file()


def test_sqlite_ddl_is_transactional(tmp_path: Path) -> None:
    engine = database.make_engine(f"sqlite:///{tmp_path}/cases.db")

    def create_then_fail() -> None:
        with engine.begin() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError, match="rolled back"):
        create_then_fail()
    assert not sa.inspect(engine).has_table("t")
    engine.dispose()


def test_in_memory_store_keeps_its_schema_across_connections() -> None:
    engine = database.make_engine("sqlite://")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar_one() == 0
    engine.dispose()


def test_json_keeps_chinese_text(tmp_path: Path) -> None:
    engine = database.make_engine(f"sqlite:///{tmp_path}/cases.db")
    table = sa.Table("t", sa.MetaData(), sa.Column("j", sa.JSON))
    with engine.begin() as conn:
        table.create(conn)
        conn.execute(sa.insert(table).values(j={"text_zh": "工资延迟"}))
    with engine.connect() as conn:
        raw = conn.exec_driver_sql("SELECT j FROM t").scalar_one()
    engine.dispose()
    assert "工资延迟" in raw
