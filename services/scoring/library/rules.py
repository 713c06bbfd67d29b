"""What makes a library, its settings and tiers valid (pure: values in, problems out)."""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Mapping

from services.scoring.domain import (
    CORE_INDICATORS,
    TIER_NAMES,
    Direction,
    Indicator,
    default_library,
)
from services.scoring.library.schemas import (
    CenterSettingsIn,
    IndicatorIn,
    LibraryPut,
    TierIn,
    TiersPut,
)
from shared.vocabulary import Problem, problem

CODE = re.compile(r"^[a-z][a-z0-9_]{1,47}$")
FRUIT = re.compile(r"^[a-z][a-z0-9_]{0,31}$")
MAX_DEPARTMENT_INDICATORS = 4
"""Reserved slots per department for its own indicators (domain.md §3: 2–4)."""
PERCENT_INDICATORS = frozenset({"satisfaction", "fcr", "utilization"})


def library_problems(doc: LibraryPut, *, departments: Collection[str]) -> list[Problem]:
    """Return every reason the library cannot be stored; `departments` are the center's."""
    problems: list[Problem] = []
    core = default_library()
    seen: set[str] = set()
    per_department: dict[str, int] = {}
    for n, item in enumerate(doc.indicators):
        where = f"indicators[{n}]"
        if item.code in seen:
            problems.append(problem(f"{where}.code", f"duplicate indicator {item.code!r}"))
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
                    problems.append(problem(f"{where}.department_id", reason))
        problems += _common_problems(where, item)
    for code in CORE_INDICATORS:
        if code not in seen:
            reason = f"core indicator {code!r} cannot be removed"
            problems.append(problem("indicators", reason))
    problems += settings_problems(doc.settings, known=seen)
    return problems


def _core_problems(where: str, item: IndicatorIn, core: Indicator) -> list[Problem]:
    problems = []
    if item.direction is not None and item.direction is not core.direction:
        reason = f"{item.code!r} is a core indicator: its direction stays {core.direction.value!r}"
        problems.append(problem(f"{where}.direction", reason))
    if item.department_id is not None:
        reason = f"{item.code!r} is a core indicator and belongs to no department"
        problems.append(problem(f"{where}.department_id", reason))
    return problems


def _department_indicator_problems(
    where: str, item: IndicatorIn, departments: Collection[str]
) -> list[Problem]:
    problems = []
    if not CODE.match(item.code):
        reason = f"codes match {CODE.pattern} (lower case, 2–48 characters), got {item.code!r}"
        problems.append(problem(f"{where}.code", reason))
    if item.department_id is None:
        reason = "a department's own indicator needs its department_id"
        problems.append(problem(f"{where}.department_id", reason))
    elif item.department_id not in departments:
        reason = f"department {item.department_id!r} is not an active department of this center"
        problems.append(problem(f"{where}.department_id", reason))
    if item.direction is None:
        problems.append(problem(f"{where}.direction", "say whether higher or lower is better"))
    if item.name is None:
        problems.append(problem(f"{where}.name", "a department's indicator needs a name"))
    return problems


def _common_problems(where: str, item: IndicatorIn) -> list[Problem]:
    problems = []
    if item.name is not None and not item.name.strip():
        problems.append(problem(f"{where}.name", "a name must not be empty"))
    if item.min_sample is not None and item.min_sample < 0:
        problems.append(problem(f"{where}.min_sample", "must be 0 or more"))
    if item.fruit is not None and not FRUIT.match(item.fruit):
        reason = f"fruit kinds match {FRUIT.pattern}, got {item.fruit!r}"
        problems.append(problem(f"{where}.fruit", reason))
    if item.tail_pct is not None and not 0 < item.tail_pct < 100:
        problems.append(problem(f"{where}.tail_pct", "must be between 0 and 100 (exclusive)"))
    if item.trend_days is not None and not 1 <= item.trend_days <= 30:
        problems.append(problem(f"{where}.trend_days", "must be 1 to 30 days"))
    return problems


def settings_problems(settings: CenterSettingsIn, *, known: Collection[str]) -> list[Problem]:
    """Return every reason the center settings cannot be stored."""
    problems = []
    for n, code in enumerate(settings.veto):
        if code not in known:
            reason = f"{code!r} is not an indicator of this library"
            problems.append(problem(f"settings.veto[{n}]", reason))
    if len(set(settings.veto)) != len(settings.veto):
        problems.append(problem("settings.veto", "lists an indicator twice"))
    bounds = {
        "fcr_window_hours": (settings.fcr_window_hours, 1, 168),
        "allowed_lateness_hours": (settings.allowed_lateness_hours, 0, 72),
        "settlement_grace_minutes": (settings.settlement_grace_minutes, 0, 24 * 60),
        "satisfied_min_score": (settings.satisfied_min_score, 1, 5),
    }
    for name, (value, low, high) in bounds.items():
        if not low <= value <= high:
            problems.append(problem(f"settings.{name}", f"must be {low} to {high}"))
    return problems


def tiers_problems(doc: TiersPut, *, library: Mapping[str, Indicator]) -> list[Problem]:
    """Return every reason the tiers cannot be stored.

    `library` holds the indicators this scope may set: the center's library for
    center-wide tiers, the core and the department's own for a department.
    """
    problems: list[Problem] = []
    if doc.owner_kind == "center" and doc.department_id is not None:
        reason = "the center's own tiers belong to no department"
        problems.append(problem("department_id", reason))
    for code, tier in doc.tiers.items():
        indicator = library.get(code)
        if indicator is None:
            reason = f"{code!r} is not an indicator of this scope's library"
            problems.append(problem(f"tiers.{code}", reason))
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
        problems.append(problem(f"{where}.points", "needs exactly five numbers"))
    if any(p < 0 for p in tier.points):
        problems.append(problem(f"{where}.points", "points must be 0 or more"))
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
            problems.append(problem(f"{where}.{easier}", reason))
    problems += _range_problems(where, values, indicator.code)
    return problems


def _range_problems(where: str, values: Mapping[str, float | None], code: str) -> list[Problem]:
    if code not in CORE_INDICATORS:
        return []
    high = 100.0 if code in PERCENT_INDICATORS else math.inf
    return [
        problem(f"{where}.{name}", f"{code} tiers lie between 0 and {high:g}")
        for name, value in values.items()
        if value is not None and not 0 <= value <= high
    ]


def _better(a: float, b: float, direction: Direction) -> bool:
    return a > b if direction is Direction.HIGHER else a < b
