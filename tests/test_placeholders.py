"""The shared queries' placeholders mean the same on both engines: `?` and SQLite's
numbered `?NNN` (one parameter used at several places in a statement)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from storage.engine.pg_conn import _bind, _placeholders
from tests import backend


def test_bare_placeholders_pass_the_parameters_as_given() -> None:
    assert _placeholders("SELECT ? WHERE a = ? AND b LIKE '50%?'") == (
        "SELECT %s WHERE a = %s AND b LIKE '50%%?'",
        None,
    )


def test_numbered_placeholders_repeat_the_parameter_at_each_use() -> None:
    text, order = _placeholders("SELECT ?2, ?1 WHERE x = ?1 AND y = '?3'")
    assert text == "SELECT %s, %s WHERE x = %s AND y = '?3'"
    assert list(_bind(order, ("one", "two"))) == ["two", "one", "one"]


def test_a_bare_placeholder_after_numbered_ones_is_the_next_number() -> None:
    # SQLite: a bare `?` is one more than the largest number assigned so far.
    text, order = _placeholders("SELECT ?3, ?, ?1")
    assert text == "SELECT %s, %s, %s"
    assert list(_bind(order, "abcd")) == ["c", "d", "a"]


@pytest.mark.parametrize("params", [(1,), (1, 2, 3)])
def test_numbered_parameters_of_the_wrong_count_are_refused(params: tuple[int, ...]) -> None:
    _, order = _placeholders("SELECT ?1 + ?2")
    with pytest.raises(psycopg.ProgrammingError):
        _bind(order, params)


def test_both_engines_run_a_numbered_statement_alike(tmp_path: Path) -> None:
    conn = backend.connect(tmp_path / "vp.db")
    try:
        row = conn.execute("SELECT ?2 - ?1, ?1 * ?1, ? + ?1", (3, 10, 100)).fetchone()
        assert tuple(row) == (7, 9, 103)
        rows = conn.execute(
            "SELECT n FROM (SELECT 1 AS n UNION ALL SELECT 2 UNION ALL SELECT 3) t"
            " WHERE n >= ?1 AND n < ?2 OR n = ?1 ORDER BY n",
            (2, 3),
        ).fetchall()
        assert [r[0] for r in rows] == [2]
        row = conn.execute("SELECT '50%?', ? || '%'", ("a",)).fetchone()
        assert tuple(row) == ("50%?", "a%")
    finally:
        conn.close()
