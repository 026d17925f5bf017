"""Tests for anxin.cases.database: engines for store URLs."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from anxin.cases import CaseStore, database
from anxin.exceptions import InvalidParameterError


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


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("notaurl://x", "a 'notaurl' database"),
        ("mysql://u@h/x", "a 'mysql' database"),
        ("x", "Could not parse"),
        ("", "Got '' instead"),
        ("sqlite:///a\x00b.db", "a NUL byte"),
        ("postgresql+psycopg2://u:pw@h/x", "its driver is not installed"),
    ],
)
def test_urls_that_name_no_store_are_bad_input(url: str, why: str) -> None:
    with pytest.raises(InvalidParameterError, match="'url' parameter") as info:
        CaseStore(url)
    assert why in str(info.value)
    assert "pw" not in str(info.value)
    assert info.value.exit_code == 2


def test_postgres_engines_give_up_on_a_silent_server() -> None:
    engine = database.make_engine("postgresql://u@10.255.255.1/db")
    assert engine.url.query["connect_timeout"] == "10"
    engine.dispose()


def _unopenable(tmp_path: Path) -> list[str]:
    directory = tmp_path / "a-directory"
    directory.mkdir()
    not_a_db = tmp_path / "notes.txt"
    not_a_db.write_text("not a database\n" * 100)
    return [
        "postgresql://postgres:s3cret@127.0.0.1:1/x",
        "sqlite:////proc/anxin/cases.db",
        f"sqlite:///{directory}",
        f"sqlite:///{not_a_db}",
    ]


def test_stores_that_cannot_be_opened_are_environment_failures(
    tmp_path: Path,
) -> None:
    for url in _unopenable(tmp_path):
        with pytest.raises(database.StoreUnavailableError) as info:
            CaseStore(url)
        message = str(info.value)
        assert message.startswith("Cannot open the case store "), message
        assert database.shown_url(url) in message
        assert "s3cret" not in message
        assert info.value.exit_code == 1
        assert isinstance(info.value, OSError)


def test_shown_url_hides_the_password_even_when_unparseable() -> None:
    assert database.shown_url("postgresql://a:b@h/db") == "postgresql://a:***@h/db"
    assert "b@" not in database.shown_url("postgresql://a:b@h:notaport/db")
