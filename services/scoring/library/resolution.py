"""From stored documents to the configuration in force (pure: values in, values out).

A center's library document fills in every field of its indicators and
settings; tiers come from the most specific scope that sets them (department
override, then center-wide; the owner kind's own, then the agents'), the
domain defaults last.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from types import MappingProxyType
from typing import Any

from services.scoring.domain import (
    CORE_INDICATORS,
    Direction,
    Indicator,
    SettlementPolicy,
    Tiers,
    WarningMethod,
    default_library,
    default_tiers,
)
from services.scoring.library.schemas import IndicatorIn, LibraryPut, TiersPut


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
            settlement_policy(s),
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


def settlement_policy(settings: Mapping[str, Any]) -> SettlementPolicy:
    """Return the settlement policy that a library's settings set."""
    return SettlementPolicy(
        fcr_window=timedelta(hours=settings["fcr_window_hours"]),
        allowed_lateness=timedelta(hours=settings["allowed_lateness_hours"]),
        grace=timedelta(minutes=settings["settlement_grace_minutes"]),
    )
