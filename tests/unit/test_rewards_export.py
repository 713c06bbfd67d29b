"""CSV renderings of fund shares and wallet ledgers parse back to the same values."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from services.rewards.domain.export import (
    LEDGER_COLUMNS,
    SHARE_COLUMNS,
    ledger_csv,
    shares_csv,
    text_cell,
    yuan,
)
from services.rewards.domain.funds import split
from services.rewards.domain.ledger import LedgerEntry, Owner, Recorded


def parse(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def test_yuan_has_two_decimals() -> None:
    assert [yuan(f) for f in (0, 5, 100, 12345, -250)] == [
        "0.00",
        "0.05",
        "1.00",
        "123.45",
        "-2.50",
    ]


def test_formula_like_text_is_written_as_text() -> None:
    assert [text_cell(v) for v in ("=SUM(A1)", "+1", "-x", "@a", "plain")] == [
        "'=SUM(A1)",
        "'+1",
        "'-x",
        "'@a",
        "plain",
    ]


def test_shares_table() -> None:
    text = shares_csv(split(100, {"a": 3, "b": 3, "c": 1}))
    assert text.endswith("\r\n")
    header, *rows = parse(text)
    assert tuple(header) == SHARE_COLUMNS
    assert rows[0] == ["a", "3", "7", "100", "42", "1", "43", "0.43", rows[0][-1]]
    assert sum(int(row[6]) for row in rows) == 100


safe_text = st.text(
    st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"), min_size=1
).filter(lambda s: not s.startswith(("=", "+", "-", "@", "\t", "\r")))


@given(
    st.lists(
        st.tuples(
            st.integers(1, 10**9),
            st.sampled_from(["credit", "debit", "refund", "adjustment"]),
            st.integers(-1000, 1000).filter(bool),
            st.integers(0, 10**6),
            safe_text,
            safe_text,
            safe_text,
        ),
        max_size=10,
    ),
    st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))])),
)
def test_ledger_parses_back(
    rows: list[tuple[int, str, int, int, str, str, str]], at: datetime
) -> None:
    owner = Owner("agent", "A1")
    recorded = [
        Recorded(n, owner, at, LedgerEntry(kind, "apple", amount, balance, reason, actor, ref))  # type: ignore[arg-type]
        for n, kind, amount, balance, reason, actor, ref in rows
    ]
    header, *parsed = parse(ledger_csv(recorded))
    assert tuple(header) == LEDGER_COLUMNS
    assert len(parsed) == len(rows)
    for (n, kind, amount, balance, reason, actor, ref), row in zip(rows, parsed, strict=True):
        assert row == [
            str(n),
            at.astimezone(UTC).isoformat(),
            "agent:A1",
            kind,
            "apple",
            str(amount),
            str(balance),
            reason,
            actor,
            ref,
        ]
        assert datetime.fromisoformat(row[1]) == at


@given(st.dictionaries(safe_text, st.integers(1, 100), max_size=10), st.integers(0, 10**8))
def test_shares_parse_back(fruit: dict[str, int], amount: int) -> None:
    shares = split(amount, fruit)
    rows = list(csv.DictReader(io.StringIO(shares_csv(shares), newline="")))
    assert len(rows) == len(shares)
    for share, row in zip(shares, rows, strict=True):
        assert row.pop("amount_yuan") == yuan(share.amount_fen)
        assert row == {column: str(getattr(share, column)) for column in row}


def test_a_formula_reason_parses_back_guarded() -> None:
    entry = LedgerEntry("adjustment", "apple", -2, 0, '=HYPERLINK("x")', "admin", "adjustment:t")
    at = datetime(2025, 3, 1, tzinfo=UTC)
    _, row = parse(ledger_csv([Recorded(1, Owner("team", "T1"), at, entry)]))
    assert row[5:8] == ["-2", "0", '\'=HYPERLINK("x")']
