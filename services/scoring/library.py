"""The indicator library and tiers as versioned configuration (domain.md §3–5).

Every PUT stores a new version per center, in force from the center's next
unsettled business day (the day after its latest settled day, or every day
when none is settled yet), so a change never alters a settled day. The
pipeline reads the version in force on a day with `scoring_config` (one
owner) or `load_configs` (everything, once per day). Sections: payloads,
validation (pure), resolution (pure), repository, admin API.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel.ext.asyncio.session import AsyncSession

from services.scoring.deps import SessionDep, run_sql
from services.scoring.domain import (
    CORE_INDICATORS,
    DEFAULT_VETO,
    TIER_NAMES,
    Direction,
    Indicator,
    SettlementPolicy,
    Tiers,
    WarningMethod,
    default_library,
    default_tiers,
)
from shared.auth.tokens import AdminPrincipal
from shared.errors import ApiError

OwnerKind = Literal["agent", "team", "department", "center"]
Problem = dict[str, str]

CODE = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
FRUIT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_DEPARTMENT_INDICATORS = 4
"""Reserved slots per department for its own indicators (domain.md §3: 2–4)."""
PERCENT_INDICATORS = frozenset({"satisfaction", "fcr", "utilization"})
EVERY_DAY = date.min
"""`effective_from` of a version stored while nothing was settled: it applies to every day."""
LATEST = date.max
"""Pass as `day` to read the newest versions (those that apply to unsettled days)."""
DEFAULT_SATISFIED_MIN_SCORE = 4

# --- payloads ---------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, populate_by_name=True)


class IndicatorIn(_Strict):
    """A library entry; omitted fields take the core indicator's default (or a generic one)."""

    code: str
    name: str | None = None
    direction: Direction | None = None
    min_sample: float | None = None
    fruit: str | None = None
    warning: WarningMethod | None = None
    tail_pct: float | None = None
    trend_days: int | None = None
    department_id: str | None = None


class CenterSettingsIn(_Strict):
    """A center's scoring settings."""

    veto: list[str] = Field(default_factory=lambda: list(DEFAULT_VETO))
    fcr_window_hours: float = 24
    allowed_lateness_hours: float = 2
    settlement_grace_minutes: float = 30
    satisfied_min_score: int = DEFAULT_SATISFIED_MIN_SCORE


class LibraryPut(_Strict):
    """`PUT /v1/config/indicators`: a center's whole library and settings."""

    center_id: str
    indicators: list[IndicatorIn]
    settings: CenterSettingsIn = Field(default_factory=CenterSettingsIn)


class TierIn(_Strict):
    """The five tiers of one indicator and the points each earns."""

    pass_: float = Field(alias="pass")
    center_avg: float | None = None
    center_benchmark: float
    group_avg: float
    group_excellence: float
    points: list[float] = Field(default_factory=lambda: [2.0] * 5)


class TiersPut(_Strict):
    """`PUT /v1/config/tiers`: the tiers of one scope (replaces that scope's tiers)."""

    center_id: str
    department_id: str | None = None
    owner_kind: OwnerKind = "agent"
    tiers: dict[str, TierIn]


# --- validation (pure) ------------------------------------------------------------------------


def library_problems(doc: LibraryPut, *, departments: Collection[str]) -> list[Problem]:
    """Return every reason the library cannot be stored; `departments` are the center's."""
    problems: list[Problem] = []
    core = default_library()
    seen: set[str] = set()
    per_department: dict[str, int] = {}
    for n, item in enumerate(doc.indicators):
        where = f"indicators[{n}]"
        if item.code in seen:
            problems.append(_problem(f"{where}.code", f"duplicate indicator {item.code!r}"))
        seen.add(item.code)
        if item.code in core:
            problems += _core_problems(where, item, core[item.code])
        else:
            problems += _department_indicator_problems(where, item, departments)
            if item.department_id is not None:
                count = per_department.get(item.department_id, 0) + 1
                per_department[item.department_id] = count
                if count == MAX_DEPARTMENT_INDICATORS + 1:
                    reason = (
                        f"department {item.department_id!r} has more than "
                        f"{MAX_DEPARTMENT_INDICATORS} indicators of its own"
                    )
                    problems.append(_problem(f"{where}.department_id", reason))
        problems += _common_problems(where, item)
    for code in CORE_INDICATORS:
        if code not in seen:
            reason = f"core indicator {code!r} cannot be removed"
            problems.append(_problem("indicators", reason))
    problems += settings_problems(doc.settings, known=seen)
    return problems


def _core_problems(where: str, item: IndicatorIn, core: Indicator) -> list[Problem]:
    problems = []
    if item.direction is not None and item.direction is not core.direction:
        reason = f"{item.code!r} is a core indicator: its direction stays {core.direction.value!r}"
        problems.append(_problem(f"{where}.direction", reason))
    if item.department_id is not None:
        reason = f"{item.code!r} is a core indicator and belongs to no department"
        problems.append(_problem(f"{where}.department_id", reason))
    return problems


def _department_indicator_problems(
    where: str, item: IndicatorIn, departments: Collection[str]
) -> list[Problem]:
    problems = []
    if not CODE.match(item.code):
        reason = f"codes match {CODE.pattern} (lower case, 2–48 characters), got {item.code!r}"
        problems.append(_problem(f"{where}.code", reason))
    if item.department_id is None:
        reason = "a department's own indicator needs its department_id"
        problems.append(_problem(f"{where}.department_id", reason))
    elif item.department_id not in departments:
        reason = f"department {item.department_id!r} is not an active department of this center"
        problems.append(_problem(f"{where}.department_id", reason))
    if item.direction is None:
        problems.append(_problem(f"{where}.direction", "say whether higher or lower is better"))
    if item.name is None:
        problems.append(_problem(f"{where}.name", "a department's indicator needs a name"))
    return problems


def _common_problems(where: str, item: IndicatorIn) -> list[Problem]:
    problems = []
    if item.name is not None and not item.name.strip():
        problems.append(_problem(f"{where}.name", "a name must not be empty"))
    if item.min_sample is not None and item.min_sample < 0:
        problems.append(_problem(f"{where}.min_sample", "must be 0 or more"))
    if item.fruit is not None and not FRUIT.match(item.fruit):
        reason = f"fruit kinds match {FRUIT.pattern}, got {item.fruit!r}"
        problems.append(_problem(f"{where}.fruit", reason))
    if item.tail_pct is not None and not 0 < item.tail_pct < 100:
        problems.append(_problem(f"{where}.tail_pct", "must be between 0 and 100 (exclusive)"))
    if item.trend_days is not None and not 1 <= item.trend_days <= 30:
        problems.append(_problem(f"{where}.trend_days", "must be 1 to 30 days"))
    return problems


def settings_problems(settings: CenterSettingsIn, *, known: Collection[str]) -> list[Problem]:
    """Return every reason the center settings cannot be stored."""
    problems = []
    for n, code in enumerate(settings.veto):
        if code not in known:
            reason = f"{code!r} is not an indicator of this library"
            problems.append(_problem(f"settings.veto[{n}]", reason))
    if len(set(settings.veto)) != len(settings.veto):
        problems.append(_problem("settings.veto", "lists an indicator twice"))
    bounds = {
        "fcr_window_hours": (settings.fcr_window_hours, 1, 168),
        "allowed_lateness_hours": (settings.allowed_lateness_hours, 0, 72),
        "settlement_grace_minutes": (settings.settlement_grace_minutes, 0, 24 * 60),
        "satisfied_min_score": (settings.satisfied_min_score, 1, 5),
    }
    for name, (value, low, high) in bounds.items():
        if not low <= value <= high:
            problems.append(_problem(f"settings.{name}", f"must be {low} to {high}"))
    return problems


def tiers_problems(doc: TiersPut, *, library: Mapping[str, Indicator]) -> list[Problem]:
    """Return every reason the tiers cannot be stored.

    `library` holds the indicators this scope may set: the center's library for
    center-wide tiers, the core and the department's own for a department.
    """
    problems: list[Problem] = []
    if doc.owner_kind == "center" and doc.department_id is not None:
        reason = "the center's own tiers belong to no department"
        problems.append(_problem("department_id", reason))
    for code, tier in doc.tiers.items():
        indicator = library.get(code)
        if indicator is None:
            reason = f"{code!r} is not an indicator of this scope's library"
            problems.append(_problem(f"tiers.{code}", reason))
            continue
        problems += tier_problems(f"tiers.{code}", tier, indicator)
    return problems


def tier_problems(where: str, tier: TierIn, indicator: Indicator) -> list[Problem]:
    """Return what is wrong with one indicator's tiers.

    In the indicator's better direction: `pass` (the withering line) is the
    easiest tier; `center_avg` (when configured) is no harder than
    `center_benchmark`; `group_avg` no harder than `group_excellence`. Center
    and group tiers are not ordered against each other: they describe
    different populations (a strong center's benchmark may beat the group
    average). Percentages lie in 0–100, other core values are non-negative.
    """
    problems: list[Problem] = []
    if len(tier.points) != len(TIER_NAMES):
        problems.append(_problem(f"{where}.points", "needs exactly five numbers"))
    if any(p < 0 for p in tier.points):
        problems.append(_problem(f"{where}.points", "points must be 0 or more"))
    values = {
        "pass": tier.pass_,
        "center_avg": tier.center_avg,
        "center_benchmark": tier.center_benchmark,
        "group_avg": tier.group_avg,
        "group_excellence": tier.group_excellence,
    }
    orders = [("pass", name) for name in TIER_NAMES[1:]]
    orders += [("center_avg", "center_benchmark"), ("group_avg", "group_excellence")]
    for easier, harder in orders:
        low, high = values[easier], values[harder]
        if low is not None and high is not None and _better(low, high, indicator.direction):
            reason = (
                f"{easier} ({low:g}) is better than {harder} ({high:g}); with "
                f"{indicator.direction.value} is better, {easier} must be the easier tier"
            )
            problems.append(_problem(f"{where}.{easier}", reason))
    problems += _range_problems(where, values, indicator.code)
    return problems


def _range_problems(where: str, values: Mapping[str, float | None], code: str) -> list[Problem]:
    if code not in CORE_INDICATORS:
        return []
    high = 100.0 if code in PERCENT_INDICATORS else math.inf
    return [
        _problem(f"{where}.{name}", f"{code} tiers lie between 0 and {high:g}")
        for name, value in values.items()
        if value is not None and not 0 <= value <= high
    ]


def _better(a: float, b: float, direction: Direction) -> bool:
    return a > b if direction is Direction.HIGHER else a < b


def _problem(field_: str, reason: str) -> Problem:
    return {"field": field_, "reason": reason}


# --- documents and resolution (pure) ------------------------------------------------------------


def library_document(doc: LibraryPut) -> dict[str, Any]:
    """Return the stored form of a valid library: every field filled in."""
    core = default_library()
    indicators = []
    for item in doc.indicators:
        base = core.get(item.code)
        indicators.append(
            {
                "code": item.code,
                "name": _pick(item.name, base and base.name, item.code),
                "direction": _pick(item.direction, base and base.direction).value,
                "min_sample": _pick(item.min_sample, base and base.min_sample, 0.0),
                "fruit": _pick(item.fruit, base and base.fruit, "apple"),
                "warning": _pick(
                    item.warning, base and base.warning, WarningMethod.BENCHMARK
                ).value,
                "tail_pct": _pick(item.tail_pct, base and base.tail_pct, 20.0),
                "trend_days": _pick(item.trend_days, base and base.trend_days, 3),
                "department_id": item.department_id,
            }
        )
    return {"indicators": indicators, "settings": doc.settings.model_dump()}


def _pick(*options: Any) -> Any:
    return next(o for o in options if o is not None)


def default_library_document() -> dict[str, Any]:
    """Return the library document a center has before anyone configures it."""
    items = [IndicatorIn(code=code) for code in CORE_INDICATORS]
    return library_document(LibraryPut(center_id="", indicators=items))


def tiers_document(doc: TiersPut) -> dict[str, Any]:
    """Return the stored form of valid tiers."""
    return {"tiers": {code: t.model_dump(by_alias=True) for code, t in doc.tiers.items()}}


@dataclass(frozen=True, slots=True)
class Library:
    """A center's library and settings, ready for scoring."""

    indicators: Mapping[str, Indicator]
    veto: tuple[str, ...]
    policy: SettlementPolicy
    satisfied_min_score: int

    @classmethod
    def parse(cls, document: Mapping[str, Any] | None) -> Library:
        """Build from a stored document (None: the defaults)."""
        document = document or default_library_document()
        indicators = {i["code"]: _indicator(i) for i in document["indicators"]}
        s = document["settings"]
        return cls(
            MappingProxyType(indicators),
            tuple(s["veto"]),
            _policy(s),
            int(s["satisfied_min_score"]),
        )

    def for_department(self, department_id: str | None) -> dict[str, Indicator]:
        """Return the core indicators plus the department's own."""
        return {
            code: i
            for code, i in self.indicators.items()
            if i.department_id is None or i.department_id == department_id
        }


def _indicator(item: Mapping[str, Any]) -> Indicator:
    return Indicator(
        code=item["code"],
        name=item["name"],
        direction=Direction(item["direction"]),
        min_sample=float(item["min_sample"]),
        fruit=item["fruit"],
        warning=WarningMethod(item["warning"]),
        tail_pct=float(item["tail_pct"]),
        trend_days=int(item["trend_days"]),
        department_id=item["department_id"],
    )


def parse_tiers(document: Mapping[str, Any]) -> dict[str, Tiers]:
    """Build domain tiers from a stored tiers document."""
    return {
        code: Tiers(
            t["pass"],
            t["center_avg"],
            t["center_benchmark"],
            t["group_avg"],
            t["group_excellence"],
            (t["points"][0], t["points"][1], t["points"][2], t["points"][3], t["points"][4]),
        )
        for code, t in document["tiers"].items()
    }


Scope = tuple[str | None, str]
"""(department id or None for the whole center, owner kind)."""


def tier_chain(department_id: str | None, owner_kind: str) -> list[Scope]:
    """Where an owner's tiers come from, most specific first.

    The owner kind's own tiers (department override, then center-wide), then
    the agents' tiers (department override, then center-wide); the domain
    defaults come last.
    """
    kinds = [owner_kind] if owner_kind == "agent" else [owner_kind, "agent"]
    chain: list[Scope] = []
    for kind in kinds:
        if department_id is not None:
            chain.append((department_id, kind))
        chain.append((None, kind))
    return chain


def resolve_tiers(
    indicators: Iterable[str],
    scopes: Mapping[Scope, Mapping[str, Tiers]],
    chain: Iterable[Scope],
) -> dict[str, tuple[Tiers, str]]:
    """Pick each indicator's tiers along the chain; answer them with where they came from."""
    chain = list(chain)
    defaults = default_tiers()
    found: dict[str, tuple[Tiers, str]] = {}
    for code in indicators:
        for scope in chain:
            tiers = scopes.get(scope, {}).get(code)
            if tiers is not None:
                found[code] = (tiers, _source(scope))
                break
        else:
            if code in defaults:
                found[code] = (defaults[code], "default")
    return found


def _source(scope: Scope) -> str:
    department, kind = scope
    return f"department:{department}:{kind}" if department else f"center:{kind}"


@dataclass(frozen=True, slots=True)
class ScoringConfig:
    """The configuration in force for one owner on one day."""

    library: Mapping[str, Indicator]
    tiers: Mapping[str, Tiers]
    veto: tuple[str, ...]
    policy: SettlementPolicy
    satisfied_min_score: int


def resolve(
    library: Library,
    scopes: Mapping[Scope, Mapping[str, Tiers]],
    department_id: str | None,
    owner_kind: str,
) -> ScoringConfig:
    """Combine a center's library and tiers into one owner's configuration.

    The library holds the core indicators plus the department's own; an
    indicator without tiers anywhere (a department indicator nobody tiered
    yet) is left out of `tiers`, so it is not scored.
    """
    indicators = library.for_department(department_id)
    found = resolve_tiers(indicators, scopes, tier_chain(department_id, owner_kind))
    return ScoringConfig(
        library=MappingProxyType(indicators),
        tiers=MappingProxyType({code: tiers for code, (tiers, _) in found.items()}),
        veto=library.veto,
        policy=library.policy,
        satisfied_min_score=library.satisfied_min_score,
    )


@dataclass(slots=True)
class ConfigBook:
    """Everything in force on one day, for bulk use during settlement."""

    day: date
    libraries: Mapping[str, Library]
    scopes: Mapping[str, Mapping[Scope, Mapping[str, Tiers]]]
    _cache: dict[tuple[str, str | None, str], ScoringConfig] = field(default_factory=dict)

    def for_owner(
        self, center_id: str, department_id: str | None = None, owner_kind: str = "agent"
    ) -> ScoringConfig:
        """Return the configuration of an owner of this center (and department)."""
        key = (center_id, department_id, owner_kind)
        config = self._cache.get(key)
        if config is None:
            library = self.libraries.get(center_id) or Library.parse(None)
            config = resolve(library, self.scopes.get(center_id, {}), department_id, owner_kind)
            self._cache[key] = config
        return config


# --- repository (never commits) ------------------------------------------------------------------

_NEWEST_FIRST = "ORDER BY effective_from DESC, id DESC"


async def lock_center_config(session: AsyncSession, center_id: str) -> None:
    """Serialise configuration changes and settlement of one center (until the commit).

    A PUT takes it before reading the settled days; settlement should take it
    before reading the configuration and recording the day settled, so a
    version can never claim a day that settled under the previous one.
    """
    await run_sql(
        session,
        "SELECT pg_advisory_xact_lock(hashtext('scoring.config:' || :c))",
        {"c": center_id},
    )


async def next_unsettled_day(session: AsyncSession, center_id: str) -> date:
    """Return the first day a change may apply to: after the latest settled day, else every day."""
    latest = (
        await run_sql(
            session,
            "SELECT max(business_date) FROM scoring_settled_days WHERE center_id = :c",
            {"c": center_id},
        )
    ).scalar()
    return latest + timedelta(days=1) if latest is not None else EVERY_DAY


@dataclass(frozen=True, slots=True)
class Version:
    """A stored configuration version."""

    id: int
    effective_from: date
    document: Mapping[str, Any]
    created_by: str


async def library_version(session: AsyncSession, center_id: str, day: date) -> Version | None:
    """Return the center's library version in force on `day` (`LATEST`: the newest)."""
    row = (
        await run_sql(
            session,
            "SELECT id, effective_from, document, created_by FROM scoring_library_versions "
            f"WHERE center_id = :c AND effective_from <= :day {_NEWEST_FIRST} LIMIT 1",
            {"c": center_id, "day": day},
        )
    ).first()
    return Version(*row) if row is not None else None


async def tier_versions(
    session: AsyncSession, center_id: str, department_id: str | None, day: date
) -> dict[Scope, Version]:
    """Return the tier versions in force on `day` for the center and the department."""
    rows = await run_sql(
        session,
        "SELECT DISTINCT ON (department_id, owner_kind) department_id, owner_kind, "
        "id, effective_from, document, created_by FROM scoring_tier_versions "
        "WHERE center_id = :c AND effective_from <= :day "
        "AND (department_id IS NULL OR department_id = :d) "
        "ORDER BY department_id, owner_kind, effective_from DESC, id DESC",
        {"c": center_id, "day": day, "d": department_id},
    )
    return {(r[0], r[1]): Version(*r[2:]) for r in rows}


async def scoring_config(
    session: AsyncSession,
    center_id: str,
    department_id: str | None,
    day: date,
    owner_kind: str = "agent",
) -> ScoringConfig:
    """Return the configuration in force on `day` for an owner (two queries)."""
    version = await library_version(session, center_id, day)
    library = Library.parse(version.document if version else None)
    versions = await tier_versions(session, center_id, department_id, day)
    scopes = {scope: parse_tiers(v.document) for scope, v in versions.items()}
    return resolve(library, scopes, department_id, owner_kind)


async def load_configs(session: AsyncSession, day: date) -> ConfigBook:
    """Load every center's configuration in force on `day` (two queries)."""
    libraries = {
        center: Library.parse(document)
        for center, document in await run_sql(
            session,
            "SELECT DISTINCT ON (center_id) center_id, document FROM scoring_library_versions "
            "WHERE effective_from <= :day ORDER BY center_id, effective_from DESC, id DESC",
            {"day": day},
        )
    }
    scopes: dict[str, dict[Scope, Mapping[str, Tiers]]] = {}
    for center, department, kind, document in await run_sql(
        session,
        "SELECT DISTINCT ON (center_id, department_id, owner_kind) center_id, department_id, "
        "owner_kind, document FROM scoring_tier_versions WHERE effective_from <= :day "
        "ORDER BY center_id, department_id, owner_kind, effective_from DESC, id DESC",
        {"day": day},
    ):
        scopes.setdefault(center, {})[(department, kind)] = parse_tiers(document)
    return ConfigBook(day, libraries, scopes)


@dataclass(frozen=True, slots=True)
class PolicyBook:
    """Centers' settlement policies (FCR window, allowed lateness, grace) in force on
    some days; a center without settings of its own follows `default`."""

    in_force: Mapping[tuple[str, date], SettlementPolicy]
    default: SettlementPolicy

    def __call__(self, center: str | None, day: date) -> SettlementPolicy:
        if center is None:
            return self.default
        return self.in_force.get((center, day), self.default)


async def center_policies(
    session: AsyncSession, days: Collection[date], *, default: SettlementPolicy
) -> PolicyBook:
    """The settlement policy of every center with a library, as in force on each of
    `days`; `default` (the service settings) for the others."""
    if not days:
        return PolicyBook({}, default)
    rows = await run_sql(
        session,
        "SELECT d, v.center_id, v.document FROM unnest(CAST(:days AS date[])) AS d "
        "CROSS JOIN LATERAL (SELECT DISTINCT ON (center_id) center_id, document "
        "FROM scoring_library_versions WHERE effective_from <= d "
        "ORDER BY center_id, effective_from DESC, id DESC) v",
        {"days": sorted(days)},
    )
    in_force = {(center, day): _policy(document["settings"]) for day, center, document in rows}
    return PolicyBook(in_force, default)


async def longest_fcr_window(session: AsyncSession) -> timedelta | None:
    """The longest FCR window any center's library has ever set (None: no library)."""
    hours = await (await session.connection()).scalar(
        text(
            "SELECT max(CAST(document -> 'settings' ->> 'fcr_window_hours' AS float8)) "
            "FROM scoring_library_versions"
        )
    )
    return timedelta(hours=hours) if hours is not None else None


def _policy(settings: Mapping[str, Any]) -> SettlementPolicy:
    return SettlementPolicy(
        fcr_window=timedelta(hours=settings["fcr_window_hours"]),
        allowed_lateness=timedelta(hours=settings["allowed_lateness_hours"]),
        grace=timedelta(minutes=settings["settlement_grace_minutes"]),
    )


_INSERT_VERSION = {
    "library": text(
        "INSERT INTO scoring_library_versions (center_id, effective_from, document, created_by) "
        "VALUES (:c, :day, :doc, :by) RETURNING id"
    ).bindparams(bindparam("doc", type_=JSONB)),
    "tiers": text(
        "INSERT INTO scoring_tier_versions "
        "(center_id, department_id, owner_kind, effective_from, document, created_by) "
        "VALUES (:c, :d, :kind, :day, :doc, :by) RETURNING id"
    ).bindparams(bindparam("doc", type_=JSONB)),
}


class ConfigRejected(Exception):
    """The configuration cannot be stored; `problems` says why."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(f"the configuration was refused ({len(problems)} problems)")
        self.problems = problems


async def store_library(session: AsyncSession, doc: LibraryPut, *, created_by: str) -> Version:
    """Store a new library version from the center's next unsettled day.

    Raises `ConfigRejected` when the library is invalid.
    """
    await lock_center_config(session, doc.center_id)
    departments = await _departments_of_center(session, doc.center_id)
    _reject_if(library_problems(doc, departments=departments))
    day = await next_unsettled_day(session, doc.center_id)
    document = library_document(doc)
    params = {"c": doc.center_id, "day": day, "doc": document, "by": created_by}
    connection = await session.connection()
    version_id = (await connection.execute(_INSERT_VERSION["library"], params)).scalar_one()
    return Version(version_id, day, document, created_by)


async def store_tiers(session: AsyncSession, doc: TiersPut, *, created_by: str) -> Version:
    """Store a new tiers version of the scope from the center's next unsettled day.

    Raises `ConfigRejected` when the tiers are invalid.
    """
    await lock_center_config(session, doc.center_id)
    departments = await _departments_of_center(session, doc.center_id)
    if doc.department_id is not None and doc.department_id not in departments:
        reason = f"{doc.department_id!r} is not an active department of {doc.center_id!r}"
        raise ConfigRejected([_problem("department_id", reason)])
    version = await library_version(session, doc.center_id, LATEST)
    library = Library.parse(version.document if version else None)
    allowed = library.for_department(doc.department_id) if doc.department_id else library.indicators
    _reject_if(tiers_problems(doc, library=allowed))
    day = await next_unsettled_day(session, doc.center_id)
    document = tiers_document(doc)
    params = {
        "c": doc.center_id,
        "d": doc.department_id,
        "kind": doc.owner_kind,
        "day": day,
        "doc": document,
        "by": created_by,
    }
    connection = await session.connection()
    version_id = (await connection.execute(_INSERT_VERSION["tiers"], params)).scalar_one()
    return Version(version_id, day, document, created_by)


def _reject_if(problems: list[Problem]) -> None:
    if problems:
        raise ConfigRejected(problems)


async def _departments_of_center(session: AsyncSession, center_id: str) -> set[str]:
    """Return the center's active departments; raise `ConfigRejected` for an unknown center."""
    departments = await _active_departments(session, center_id)
    if departments is None:
        raise ConfigRejected([_problem("center_id", f"unknown center {center_id!r}")])
    return departments


async def _active_departments(session: AsyncSession, center_id: str) -> set[str] | None:
    """Return the center's active departments, or None when the center is not active."""
    rows = list(
        await run_sql(
            session,
            "SELECT d.id FROM scoring_centers c LEFT JOIN scoring_departments d "
            "ON d.center_id = c.id AND d.active WHERE c.id = :c AND c.active",
            {"c": center_id},
        )
    )
    if not rows:
        return None
    return {row[0] for row in rows if row[0] is not None}


# --- admin API ----------------------------------------------------------------------------------

config_router = APIRouter(prefix="/v1", tags=["configuration"])

CenterQuery = Query(description="the center whose configuration to read")
OnQuery = Query(default=None, description="the version in force on this day (default: newest)")


def _effective(day: date) -> str | None:
    return None if day == EVERY_DAY else day.isoformat()


def _version_fields(version: Version | None) -> dict[str, Any]:
    if version is None:
        return {"version": None, "effective_from": None, "created_by": None}
    return {
        "version": version.id,
        "effective_from": _effective(version.effective_from),
        "created_by": version.created_by,
    }


async def _require_center(session: AsyncSession, center_id: str) -> None:
    if await _active_departments(session, center_id) is None:
        raise ApiError(404, f"unknown center {center_id!r}")


@config_router.get("/config/indicators")
async def get_indicators(
    _: AdminPrincipal,
    session: SessionDep,
    center_id: str = CenterQuery,
    on: date | None = OnQuery,
) -> dict[str, Any]:
    """Return a center's indicator library and settings."""
    await _require_center(session, center_id)
    version = await library_version(session, center_id, on or LATEST)
    document = version.document if version else default_library_document()
    return {"center_id": center_id, **_version_fields(version), **document}


@config_router.put("/config/indicators")
async def put_indicators(
    body: LibraryPut, principal: AdminPrincipal, session: SessionDep
) -> dict[str, Any]:
    """Store a new library version, in force from the center's next unsettled day."""
    try:
        version = await store_library(session, body, created_by=principal.subject)
    except ConfigRejected as exc:
        raise ApiError(422, "the indicator library was refused", details=exc.problems) from None
    return {"center_id": body.center_id, **_version_fields(version), **version.document}


@config_router.get("/config/tiers")
async def get_tiers(
    _: AdminPrincipal,
    session: SessionDep,
    center_id: str = CenterQuery,
    department_id: str | None = Query(default=None),
    owner_kind: OwnerKind = Query(default="agent"),
    on: date | None = OnQuery,
) -> dict[str, Any]:
    """Return a scope's stored tiers and every indicator's tiers in force, with their source."""
    await _require_center(session, center_id)
    day = on or LATEST
    library_v = await library_version(session, center_id, day)
    library = Library.parse(library_v.document if library_v else None)
    versions = await tier_versions(session, center_id, department_id, day)
    own = versions.get((department_id, owner_kind))
    scopes = {scope: parse_tiers(v.document) for scope, v in versions.items()}
    chain = tier_chain(department_id, owner_kind)
    found = resolve_tiers(library.for_department(department_id), scopes, chain)
    return {
        "center_id": center_id,
        "department_id": department_id,
        "owner_kind": owner_kind,
        **_version_fields(own),
        "tiers": own.document["tiers"] if own else {},
        "resolved": {code: _tier_json(t, source) for code, (t, source) in found.items()},
    }


@config_router.put("/config/tiers")
async def put_tiers(
    body: TiersPut, principal: AdminPrincipal, session: SessionDep
) -> dict[str, Any]:
    """Store a new tiers version of the scope, in force from the center's next unsettled day."""
    try:
        version = await store_tiers(session, body, created_by=principal.subject)
    except ConfigRejected as exc:
        raise ApiError(422, "the tiers were refused", details=exc.problems) from None
    return {
        "center_id": body.center_id,
        "department_id": body.department_id,
        "owner_kind": body.owner_kind,
        **_version_fields(version),
        **version.document,
    }


def _tier_json(tiers: Tiers, source: str) -> dict[str, Any]:
    return {
        "pass": tiers.pass_,
        "center_avg": tiers.center_avg,
        "center_benchmark": tiers.center_benchmark,
        "group_avg": tiers.group_avg,
        "group_excellence": tiers.group_excellence,
        "points": list(tiers.points),
        "source": source,
    }
