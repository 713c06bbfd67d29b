"""CSV renderings of a fund's shares and of a wallet's ledger (`?format=csv`).

RFC 4180 text from the `csv` module: a header row, the columns in a fixed
order, CRLF line ends, fields quoted when they hold a comma, quote or line
break. Money is whole fen and, beside it, yuan with two decimals. A text cell
that a spreadsheet would run as a formula (starting with `=`, `+`, `-`, `@`, a
tab or a carriage return) is written with a leading `'`; numbers never are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import UTC
from decimal import Decimal
from typing import Final

from services.rewards.domain.funds import Share
from services.rewards.domain.ledger import Recorded

SHARE_COLUMNS: Final = (
    "member_id",
    "fruit",
    "qualifying_fruit",
    "fund_fen",
    "base_fen",
    "extra_fen",
    "amount_fen",
    "amount_yuan",
    "rule",
)
LEDGER_COLUMNS: Final = (
    "entry_id",
    "recorded_at",
    "owner",
    "kind",
    "fruit",
    "amount",
    "balance",
    "reason",
    "actor",
    "reference",
)
_FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def text_cell(value: str) -> str:
    """Return `value` as a cell a spreadsheet shows as text, never runs."""
    return f"'{value}" if value.startswith(_FORMULA_STARTS) else value


def yuan(fen: int) -> str:
    """Return an amount in fen as yuan with two decimals (`12345` → `123.45`)."""
    return f"{Decimal(fen).scaleb(-2):.2f}"


def _table(columns: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return out.getvalue()


def shares_csv(shares: Iterable[Share]) -> str:
    """Render a fund's shares, one row per member, in the order given."""
    return _table(
        SHARE_COLUMNS,
        (
            (
                text_cell(s.member_id),
                s.fruit,
                s.qualifying_fruit,
                s.fund_fen,
                s.base_fen,
                s.extra_fen,
                s.amount_fen,
                yuan(s.amount_fen),
                text_cell(s.rule),
            )
            for s in shares
        ),
    )


def ledger_csv(entries: Iterable[Recorded]) -> str:
    """Render a wallet's ledger, one row per entry, in the order given."""
    return _table(
        LEDGER_COLUMNS,
        (
            (
                r.entry_id,
                r.recorded_at.astimezone(UTC).isoformat(),
                text_cell(r.owner.key),
                r.entry.kind,
                r.entry.fruit,
                r.entry.amount,
                r.entry.balance,
                text_cell(r.entry.reason),
                text_cell(r.entry.actor),
                text_cell(r.entry.reference),
            )
            for r in entries
        ),
    )
