"""Load the org tree from a file into the scoring database (the same rules as `PUT /v1/org`).

    python -m services.scoring.org_load FILE.json|FILE.csv [--effective-from YYYY-MM-DD] [--dry-run]

JSON: the tree `{"centers": [...]}` (optionally with `"effective_from"`).
CSV: one row per agent with the columns
`center_id,center_name,timezone,department_id,department_name,team_id,team_name,agent_id,agent_name`;
a row with an empty agent_id declares an empty team (likewise an empty
team_id an empty department, an empty department_id an empty center).
The database is `DATABASE_URL`; its schema is migrated first. Prints what
changed as JSON; exits 1 when the tree is refused, listing every reason.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from services.scoring.org.schemas import OrgPut
from services.scoring.org.store import OrgRejected, apply_org
from shared.db import make_engine, make_session_factory
from shared.migrate import migrate
from shared.settings import ServiceSettings
from shared.vocabulary import DEFAULT_TIMEZONE, Problem, problem

CSV_COLUMNS = (
    "center_id",
    "center_name",
    "timezone",
    "department_id",
    "department_name",
    "team_id",
    "team_name",
    "agent_id",
    "agent_name",
)
LEVELS = (("center", "departments"), ("department", "teams"), ("team", "agents"), ("agent", ""))


class OrgFileError(Exception):
    """The file cannot be read as an org tree; `problems` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(f"{p['field']}: {p['reason']}" for p in problems))
        self.problems = problems


def tree_from_csv(content: str) -> dict[str, Any]:
    """Build the tree from CSV rows; raise `OrgFileError` on missing columns or conflicting rows."""
    reader = csv.DictReader(io.StringIO(content))
    missing = [c for c in CSV_COLUMNS if c not in (reader.fieldnames or ())]
    if missing:
        raise OrgFileError([problem("header", f"missing columns: {', '.join(missing)}")])
    root: dict[str, Any] = {"centers": []}
    nodes: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}  # (level, id) -> (node, parent)
    problems: list[Problem] = []
    for line, row in enumerate(reader, start=2):
        parent, siblings = "", root["centers"]
        ids = [(row.get(f"{level}_id") or "").strip() for level, _ in LEVELS]
        if "" in ids and any(ids[ids.index("") :]):
            reason = "every level above a given id needs its id too"
            problems.append(problem(f"line {line}", reason))
            continue
        for (level, children), unit_id in zip(LEVELS, ids, strict=True):
            if not unit_id:
                break
            node = _node(row, level, unit_id, children)
            known = nodes.get((level, unit_id))
            if known is None:
                nodes[(level, unit_id)] = (node, parent)
                siblings.append(node)
                known = (node, parent)
            else:
                problems += _conflicts(line, level, known, node, parent)
            parent, siblings = unit_id, known[0].get(children, [])
    if problems:
        raise OrgFileError(problems)
    return root


def _node(row: dict[str, str], level: str, unit_id: str, children: str) -> dict[str, Any]:
    node: dict[str, Any] = {"id": unit_id, "name": (row.get(f"{level}_name") or "").strip()}
    if level == "center":
        node["timezone"] = (row.get("timezone") or "").strip() or DEFAULT_TIMEZONE
    if children:
        node[children] = []
    return node


def _conflicts(
    line: int, level: str, known: tuple[dict[str, Any], str], node: dict[str, Any], parent: str
) -> list[Problem]:
    first, first_parent = known
    problems = []
    where = f"line {line}"
    if first_parent != parent:
        reason = f"{level} {node['id']!r} appears under {first_parent!r} and {parent!r}"
        problems.append(problem(where, reason))
    for key in ("name", "timezone"):
        if key in node and node[key] != first[key]:
            reason = f"{level} {node['id']!r} has {key} {first[key]!r} and {node[key]!r}"
            problems.append(problem(where, reason))
    return problems


def read_org_file(path: Path, *, effective_from: date | None = None) -> OrgPut:
    """Read a JSON or CSV org file; raise `OrgFileError` when it is not a valid tree."""
    content = path.read_text(encoding="utf-8-sig")
    if path.suffix.lower() == ".csv":
        data = tree_from_csv(content)
    else:
        try:
            data = json.loads(content)
        except json.JSONDecodeError as exc:
            raise OrgFileError([problem("file", f"not JSON: {exc}")]) from None
    try:
        tree = OrgPut.model_validate(data)
    except ValidationError as exc:
        problems = [problem(".".join(str(p) for p in e["loc"]), e["msg"]) for e in exc.errors()]
        raise OrgFileError(problems) from None
    if effective_from is not None:
        tree = tree.model_copy(update={"effective_from": effective_from})
    return tree


async def load(
    database_url: str, tree: OrgPut, *, dry_run: bool = False, now: datetime | None = None
) -> dict[str, Any]:
    """Apply the tree to the database (rolled back when `dry_run`); return what changed."""
    await migrate(database_url)
    engine = make_engine(database_url, pool_size=1)
    try:
        async with make_session_factory(engine)() as session:
            plan = await apply_org(
                session,
                tree,
                effective_from=tree.effective_from,
                now=now or datetime.now().astimezone(),
            )
            await (session.rollback() if dry_run else session.commit())
        return {**plan.summary(), "dry_run": dry_run}
    finally:
        await engine.dispose()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the loader; answer the process exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m services.scoring.org_load", description=__doc__
    )
    parser.add_argument("file", type=Path, help="the org tree (.json or .csv)")
    parser.add_argument("--effective-from", type=date.fromisoformat, default=None)
    parser.add_argument("--dry-run", action="store_true", help="show the changes, keep nothing")
    args = parser.parse_args(argv)
    try:
        tree = read_org_file(args.file, effective_from=args.effective_from)
        summary = asyncio.run(load(ServiceSettings().database_url, tree, dry_run=args.dry_run))
    except (OrgFileError, OrgRejected) as exc:
        for problem in exc.problems:
            print(f"{problem['field']}: {problem['reason']}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
