"""One way to run SQL in a unit of work: statements, advisory locks, bulk rows.

Every function takes the caller's session (or connection) and runs inside its
transaction; none of them commits. Stores build on these, so a statement, a
lock and a bulk write look the same in every service.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import CursorResult, text
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel.ext.asyncio.session import AsyncSession

Executor = AsyncSession | AsyncConnection
"""Where a statement runs: a session in a unit of work, or a connection in a transaction."""

Params = Mapping[str, Any]


async def _connection(db: Executor) -> AsyncConnection:
    # The Core connection skips the ORM's per-statement work: statements here are text.
    return await db.connection() if isinstance(db, AsyncSession) else db


async def execute(db: Executor, sql: str, params: Params | None = None) -> CursorResult[Any]:
    """Run one statement in the caller's transaction and return its result."""
    connection = await _connection(db)
    return await connection.execute(text(sql), dict(params or {}))


async def scalar(db: Executor, sql: str, params: Params | None = None) -> Any:
    """Run one statement and return the first column of its first row (or None)."""
    return (await execute(db, sql, params)).scalar()


async def mappings(db: Executor, sql: str, params: Params | None = None) -> list[dict[str, Any]]:
    """Run one statement and return its rows as dictionaries."""
    return [dict(row) for row in (await execute(db, sql, params)).mappings()]


# --- advisory locks -----------------------------------------------------------------------------
# Transaction-scoped: released by the commit or rollback that ends the unit of work. A lock is
# named by a string ("scoring.config:C1"); names are hashed with PostgreSQL's hashtext.


async def lock(db: Executor, *names: str) -> None:
    """Wait for the advisory locks `names`, taken in one sorted order (no deadlock between
    transactions that take overlapping sets)."""
    unique = sorted(set(names))
    if not unique:
        return
    if len(unique) == 1:
        await execute(db, "SELECT pg_advisory_xact_lock(hashtext(:name))", {"name": unique[0]})
        return
    await execute(
        db,
        "SELECT pg_advisory_xact_lock(hashtext(n)) FROM unnest(CAST(:names AS text[])) n ORDER BY n",
        {"names": unique},
    )


async def try_lock(db: Executor, name: str) -> bool:
    """Take the advisory lock `name` if it is free; return whether this transaction holds it."""
    return bool(
        await scalar(db, "SELECT pg_try_advisory_xact_lock(hashtext(:name))", {"name": name})
    )


# --- bulk rows ----------------------------------------------------------------------------------


def unnest(columns: Mapping[str, str]) -> str:
    """`unnest(CAST(:a AS text[]), CAST(:b AS int[]), ...)`: parallel array parameters as rows.

    `columns` maps each parameter name to its element type; use it as a FROM item
    (`SELECT * FROM {unnest(...)} AS u(a, b)`), with one list per name in the params.
    """
    return "unnest(" + ", ".join(f"CAST(:{n} AS {t}[])" for n, t in columns.items()) + ")"


def arrays(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> dict[str, list[Any]]:
    """Transpose `rows` into one list per column name (the params of an `unnest`)."""
    transposed = list(zip(*rows, strict=True))  # in C: no Python work per value
    if not transposed:
        return {name: [] for name in columns}
    if len(transposed) != len(columns):
        raise ValueError(f"rows of {len(transposed)} values for {len(columns)} columns")
    return {name: list(values) for name, values in zip(columns, transposed, strict=True)}


async def insert_rows(
    db: Executor,
    table: str,
    columns: Mapping[str, str],
    rows: Iterable[Sequence[Any]],
    *,
    on_conflict: str = "",
    returning: str = "",
    params: Params | None = None,
) -> CursorResult[Any]:
    """Insert `rows` into `table` in one statement: `INSERT ... SELECT * FROM unnest(...)`.

    `columns` maps each column to its PostgreSQL type, in the rows' order.
    `on_conflict` and `returning` are appended as written (without their
    keywords: `on_conflict="DO NOTHING"`); `params` are extra named parameters
    they use.
    """
    sql = f"INSERT INTO {table} ({', '.join(columns)}) SELECT * FROM {unnest(columns)}"
    if on_conflict:
        sql += f" ON CONFLICT {on_conflict}"
    if returning:
        sql += f" RETURNING {returning}"
    return await execute(db, sql, {**arrays(list(columns), rows), **(params or {})})
