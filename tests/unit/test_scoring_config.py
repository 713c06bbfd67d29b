"""Pure rules of the scoring org and configuration: tree, plan, library, tiers, resolution."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from services.scoring.domain import (
    CORE_INDICATORS,
    DEFAULT_VETO,
    Direction,
    Tiers,
    default_library,
    default_tiers,
)
from services.scoring.library.resolution import (
    ConfigBook,
    Library,
    default_library_document,
    library_document,
    resolve,
    tier_chain,
)
from services.scoring.library.rules import library_problems, tier_problems, tiers_problems
from services.scoring.library.schemas import (
    CenterSettingsIn,
    IndicatorIn,
    LibraryPut,
    TierIn,
    TiersPut,
)
from services.scoring.org.plan import (
    OpenMembership,
    OrgSnapshot,
    UnitPath,
    UnitState,
    desired_units,
    natural_key,
    plan_org,
    tree_problems,
)
from services.scoring.org.schemas import OrgTree
from services.scoring.org_load import CSV_COLUMNS, OrgFileError, read_org_file, tree_from_csv
from simulator.org import build_org

NOW = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai, 22:00 the day before in New York


def small_tree() -> dict[str, Any]:
    return {
        "centers": [
            {
                "id": "C1",
                "name": "广州客服中心",
                "timezone": "Asia/Shanghai",
                "departments": [
                    {
                        "id": "C1-D1",
                        "name": "综合服务一部",
                        "teams": [
                            {"id": "T1", "name": "一组", "agents": [{"id": "A1", "name": "王伟"}]},
                            {"id": "T2", "name": "二组", "agents": [{"id": "A2", "name": "李娜"}]},
                        ],
                    }
                ],
            }
        ]
    }


def reasons(problems: list[dict[str, str]]) -> str:
    return " | ".join(p["reason"] for p in problems)


# --- tree validation -----------------------------------------------------------------------------


def test_a_simulated_org_is_valid() -> None:
    assert tree_problems(OrgTree.model_validate(build_org(500, seed=3, centers=2))) == []


@pytest.mark.parametrize(
    ("mutate", "field", "reason"),
    [
        (lambda t: t["centers"].clear(), "centers", "at least one center"),
        (lambda t: _team(t, 1).update(id="T1"), ".teams[1].id", "duplicate id 'T1'"),
        (lambda t: _team(t, 1).update(id="C1-D1"), ".teams[1].id", "duplicate id 'C1-D1'"),
        (lambda t: _team(t, 0).update(id=""), ".teams[0].id", "ids are 1–64 characters"),
        (lambda t: _team(t, 0).update(id="T 1"), ".teams[0].id", "without spaces"),
        (lambda t: _team(t, 0).update(id="T/1"), ".teams[0].id", "or '/'"),
        (lambda t: _team(t, 0).update(name="  "), ".teams[0].name", "must not be empty"),
        (lambda t: t["centers"][0].update(timezone="Mars/Olympus"), ".timezone", "unknown time"),
        (
            lambda t: _team(t, 1)["agents"].append({"id": "A1", "name": "x"}),
            ".agents[1].id",
            "agent 'A1' is in two teams: 'T1' and 'T2'",
        ),
        (
            lambda t: _team(t, 0)["agents"].append({"id": "A1", "name": "x"}),
            ".agents[1].id",
            "listed twice in team 'T1'",
        ),
    ],
)
def test_tree_problems_name_the_field_and_reason(mutate: Any, field: str, reason: str) -> None:
    tree = small_tree()
    mutate(tree)
    problems = tree_problems(OrgTree.model_validate(tree))
    assert len(problems) == 1, problems
    assert problems[0]["field"].endswith(field)
    assert reason in problems[0]["reason"]


def _team(tree: dict[str, Any], index: int) -> dict[str, Any]:
    team: dict[str, Any] = tree["centers"][0]["departments"][0]["teams"][index]
    return team


def test_natural_order_puts_d2_before_d10() -> None:
    assert sorted(["C1-D10", "C1-D2", "C1-D1"], key=natural_key) == ["C1-D1", "C1-D2", "C1-D10"]


# --- planning changes ----------------------------------------------------------------------------


def stored(tree: dict[str, Any], since: date) -> OrgSnapshot:
    """A snapshot holding exactly `tree`, every agent a member since `since`."""
    units = desired_units(OrgTree.model_validate(tree))
    snapshot = OrgSnapshot(
        centers=units["centers"],
        departments=units["departments"],
        teams=units["teams"],
        agents=units["agents"],
    )
    n = 0
    for center in tree["centers"]:
        for department in center["departments"]:
            for team in department["teams"]:
                for agent in team["agents"]:
                    n += 1
                    snapshot.open_memberships[agent["id"]] = OpenMembership(n, team["id"], since)
    return snapshot


def plan(snapshot: OrgSnapshot, tree: dict[str, Any], effective_from: date | None = None) -> Any:
    return plan_org(snapshot, OrgTree.model_validate(tree), effective_from=effective_from, now=NOW)


def test_a_new_org_is_added_from_today_in_the_center_zone() -> None:
    result = plan(OrgSnapshot(), small_tree())
    assert result.problems == []
    assert result.effective == {"C1": date(2026, 3, 10)}
    assert result.summary()["teams"] == {"added": 2, "updated": 0, "deactivated": 0}
    assert sorted(result.memberships.opened) == [
        ("A1", "T1", date(2026, 3, 10)),
        ("A2", "T2", date(2026, 3, 10)),
    ]


def test_today_follows_each_center_zone() -> None:
    tree = small_tree()
    tree["centers"][0]["timezone"] = "America/New_York"
    assert plan(OrgSnapshot(), tree).effective == {"C1": date(2026, 3, 9)}


def test_the_same_tree_again_changes_nothing() -> None:
    tree = build_org(300, seed=5, centers=2)
    result = plan(stored(tree, date(2026, 1, 1)), tree)
    assert result.problems == []
    assert not result.changed
    assert result.summary()["changed"] is False


def test_a_move_closes_the_old_membership_and_opens_the_new_one() -> None:
    tree = small_tree()
    snapshot = stored(tree, date(2026, 3, 1))
    moved = _team(tree, 0)["agents"].pop()
    _team(tree, 1)["agents"].append(moved)
    result = plan(snapshot, tree, date(2026, 3, 5))
    assert result.problems == []
    assert result.memberships.closed == [(1, date(2026, 3, 5))]
    assert result.memberships.opened == [("A1", "T2", date(2026, 3, 5))]
    assert result.summary()["agents"]["moved"] == 1


def test_a_move_on_the_joining_day_corrects_the_membership() -> None:
    tree = small_tree()
    snapshot = stored(tree, date(2026, 3, 5))
    _team(tree, 1)["agents"].append(_team(tree, 0)["agents"].pop())
    result = plan(snapshot, tree, date(2026, 3, 5))
    assert result.memberships.retargeted == [(1, "T2")]
    assert result.memberships.closed == [] and result.memberships.opened == []


def test_a_move_cannot_take_effect_before_the_current_membership() -> None:
    tree = small_tree()
    snapshot = stored(tree, date(2026, 3, 5))
    _team(tree, 1)["agents"].append(_team(tree, 0)["agents"].pop())
    result = plan(snapshot, tree, date(2026, 3, 4))
    assert "joined team 'T1' on 2026-03-05" in reasons(result.problems)


def test_removed_units_are_deactivated_and_their_agents_leave() -> None:
    tree = small_tree()
    snapshot = stored(tree, date(2026, 3, 1))
    del tree["centers"][0]["departments"][0]["teams"][1]
    result = plan(snapshot, tree, date(2026, 3, 5))
    assert result.problems == []
    assert result.units["teams"].deactivate == ["T2"]
    assert result.units["agents"].deactivate == ["A2"]
    assert result.memberships.closed == [(2, date(2026, 3, 5))]


def test_renaming_updates_and_reactivating_upserts() -> None:
    tree = small_tree()
    snapshot = stored(tree, date(2026, 3, 1))
    snapshot.teams["T2"] = UnitState("C1-D1", "二组", active=False)
    _team(tree, 0)["name"] = "一组（新）"
    result = plan(snapshot, tree)
    upserted = {unit_id for unit_id, _ in result.units["teams"].upsert}
    assert upserted == {"T1", "T2"}
    assert result.summary()["teams"] == {"added": 0, "updated": 2, "deactivated": 0}


def test_units_keep_their_parent_and_kind() -> None:
    tree = small_tree()
    snapshot = stored(tree, date(2026, 3, 1))
    snapshot.departments["C1-D9"] = UnitState("C1", "old", active=False)
    tree["centers"][0]["departments"].append(
        {"id": "C1-D2", "name": "二部", "teams": [_team(tree, 1)]}
    )
    tree["centers"][0]["departments"][0]["teams"].pop()
    _team(tree, 0)["id"] = "C1-D9"
    _team(tree, 0)["agents"] = []
    result = plan(snapshot, tree, date(2026, 3, 5))
    text = reasons(result.problems)
    assert "team 'T2' belongs to 'C1-D1', not 'C1-D2'" in text
    assert "'C1-D9' is already the id of a department" in text


def test_a_returning_agent_cannot_rejoin_before_leaving() -> None:
    tree = small_tree()
    snapshot = stored(tree, date(2026, 3, 1))
    del snapshot.open_memberships["A2"]
    snapshot.last_left["A2"] = date(2026, 3, 8)
    assert "left their last team on 2026-03-08" in reasons(
        plan(snapshot, tree, date(2026, 3, 7)).problems
    )
    assert plan(snapshot, tree, date(2026, 3, 8)).memberships.opened == [
        ("A2", "T2", date(2026, 3, 8))
    ]


def test_unit_path_contains_its_subtree() -> None:
    department = UnitPath("C1", "C1-D1")
    assert department.kind == "department" and department.unit_id == "C1-D1"
    assert department.contains(UnitPath("C1", "C1-D1", "T1"))
    assert not department.contains(UnitPath("C1", "C1-D2", "T5"))
    assert not UnitPath("C1", "C1-D1", "T1").contains(department)
    assert UnitPath("C1").contains(UnitPath("C1", "C1-D2", "T5"))


# --- library validation --------------------------------------------------------------------------


def library(*extra: dict[str, Any], **settings: Any) -> LibraryPut:
    items = [IndicatorIn(code=code) for code in CORE_INDICATORS]
    items += [IndicatorIn.model_validate(e) for e in extra]
    return LibraryPut(center_id="C1", indicators=items, settings=CenterSettingsIn(**settings))


QA = {"code": "qa_score", "name": "质检分", "direction": "higher", "department_id": "C1-D1"}


def test_the_default_library_is_valid_and_matches_the_domain() -> None:
    assert library_problems(library(QA), departments={"C1-D1"}) == []
    parsed = Library.parse(default_library_document())
    assert dict(parsed.indicators) == default_library()
    assert parsed.veto == DEFAULT_VETO and parsed.satisfied_min_score == 4


def test_omitted_fields_of_a_core_indicator_keep_its_defaults() -> None:
    doc = library_document(library())
    aht = next(i for i in doc["indicators"] if i["code"] == "aht")
    assert (aht["name"], aht["direction"], aht["min_sample"], aht["fruit"]) == (
        "通话均长",
        "lower",
        5,
        "grape",
    )


@pytest.mark.parametrize(
    ("doc", "reason"),
    [
        (
            LibraryPut(center_id="C1", indicators=[IndicatorIn(code="aht")]),
            "core indicator 'satisfaction' cannot be removed",
        ),
        (
            library({"code": "aht", "direction": "higher"}),
            "its direction stays 'lower'",
        ),
        (library({**QA, "code": "QA"}), "codes match"),
        (library({**QA, "code": "q"}), "codes match"),
        (library({**QA, "department_id": "C9-D1"}), "not an active department"),
        (library({**QA, "department_id": None}), "needs its department_id"),
        (library({k: v for k, v in QA.items() if k != "direction"}), "higher or lower"),
        (library(QA, QA), "duplicate indicator 'qa_score'"),
        (library({"code": "fcr", "department_id": "C1-D1"}), "belongs to no department"),
        (library({**QA, "tail_pct": 0}), "between 0 and 100"),
        (library({**QA, "trend_days": 0}), "1 to 30 days"),
        (library({**QA, "min_sample": -1}), "0 or more"),
        (library({**QA, "fruit": "Big Melon"}), "fruit kinds match"),
        (library(veto=["satisfaction", "nps"]), "'nps' is not an indicator"),
        (library(veto=["aht", "aht"]), "twice"),
        (library(fcr_window_hours=0), "1 to 168"),
        (library(satisfied_min_score=6), "1 to 5"),
    ],
)
def test_library_problems(doc: LibraryPut, reason: str) -> None:
    assert reason in reasons(library_problems(doc, departments={"C1-D1"}))


def test_a_department_has_at_most_four_own_indicators() -> None:
    items = [{**QA, "code": f"own_{n}"} for n in range(5)]
    assert library_problems(library(*items[:4]), departments={"C1-D1"}) == []
    problems = library_problems(library(*items), departments={"C1-D1"})
    assert "more than 4 indicators" in reasons(problems)


def test_unknown_fields_and_nan_are_refused_by_the_payload() -> None:
    with pytest.raises(ValueError, match="min_samples"):
        IndicatorIn.model_validate({"code": "aht", "min_samples": 3})
    with pytest.raises(ValueError):
        TierIn.model_validate(
            json.loads(
                '{"pass": NaN, "center_benchmark": 1, "group_avg": 1, "group_excellence": 1}'
            )
        )


# --- tiers validation ----------------------------------------------------------------------------


def tier(*values: float | None, points: list[float] | None = None) -> TierIn:
    pass_, avg, bench, group, excellence = values
    data = {
        "pass": pass_,
        "center_avg": avg,
        "center_benchmark": bench,
        "group_avg": group,
        "group_excellence": excellence,
    }
    if points is not None:
        data["points"] = points  # type: ignore[assignment]
    return TierIn.model_validate(data)


LIB = default_library()


def test_the_domain_example_is_valid() -> None:
    assert tier_problems("t", tier(85, 90, 93, 95, 97), LIB["satisfaction"]) == []


def test_the_default_tiers_satisfy_the_monotonicity_rule() -> None:
    for code, t in default_tiers().items():
        as_input = tier(t.pass_, t.center_avg, t.center_benchmark, t.group_avg, t.group_excellence)
        assert tier_problems(code, as_input, LIB[code]) == [], code


@pytest.mark.parametrize(
    ("code", "values", "reason"),
    [
        ("satisfaction", (92, None, 90, 95, 97), "pass (92) is better than center_benchmark (90)"),
        ("satisfaction", (85, 94, 93, 95, 97), "center_avg (94) is better than center_benchmark"),
        ("satisfaction", (85, 90, 93, 98, 97), "group_avg (98) is better than group_excellence"),
        ("aht", (300, None, 420, 330, 270), "pass (300) is better than center_benchmark (420)"),
        ("aht", (420, None, 300, 250, 270), "group_avg (250) is better than group_excellence"),
        ("satisfaction", (85, 90, 93, 95, 101), "between 0 and 100"),
        ("complaint_rate", (-1, None, 0.5, 1.0, 0.2), "between 0 and inf"),
    ],
)
def test_tier_order_and_range(code: str, values: Any, reason: str) -> None:
    assert reason in reasons(tier_problems("t", tier(*values), LIB[code]))


def test_center_tiers_and_group_tiers_are_not_ordered_against_each_other() -> None:
    # a strong center: benchmark above the group's average, below its excellence
    assert tier_problems("t", tier(85, None, 96, 92, 97), LIB["satisfaction"]) == []


def test_points_are_five_non_negative_numbers() -> None:
    text = reasons(tier_problems("t", tier(85, 90, 93, 95, 97, points=[2, 2, 2]), LIB["fcr"]))
    assert "exactly five" in text
    text = reasons(
        tier_problems("t", tier(85, 90, 93, 95, 97, points=[2, 2, -1, 2, 2]), LIB["fcr"])
    )
    assert "0 or more" in text


def test_tiers_need_a_known_indicator_and_center_tiers_no_department() -> None:
    doc = TiersPut(
        center_id="C1",
        department_id="C1-D1",
        owner_kind="center",
        tiers={"nps": tier(1, None, 2, 3, 4)},
    )
    text = reasons(tiers_problems(doc, library=LIB))
    assert "'nps' is not an indicator" in text
    assert "belong to no department" in text


# --- resolution ----------------------------------------------------------------------------------


def test_the_tier_chain_goes_from_specific_to_general() -> None:
    assert tier_chain(None, "agent") == [(None, "agent")]
    assert tier_chain("D1", "team") == [
        ("D1", "team"),
        (None, "team"),
        ("D1", "agent"),
        (None, "agent"),
    ]
    assert tier_chain(None, "center") == [(None, "center"), (None, "agent")]


def test_resolve_applies_overrides_then_defaults() -> None:
    center = Tiers(80, None, 90, 92, 95)
    department = Tiers(70, None, 88, 90, 93)
    teams = Tiers(75, None, 89, 91, 94)
    scopes = {
        (None, "agent"): {"satisfaction": center, "fcr": center},
        ("D1", "agent"): {"satisfaction": department},
        (None, "team"): {"fcr": teams},
    }
    lib = Library.parse(library_document(library({**QA, "department_id": "D1"})))
    agent = resolve(lib, scopes, "D1", "agent")
    assert agent.tiers["satisfaction"] == department
    assert agent.tiers["fcr"] == center
    assert agent.tiers["aht"] == default_tiers()["aht"]
    assert "qa_score" in agent.library and "qa_score" not in agent.tiers  # not tiered yet
    team = resolve(lib, scopes, "D1", "team")
    assert team.tiers["fcr"] == teams and team.tiers["satisfaction"] == department
    other = resolve(lib, scopes, "D2", "agent")
    assert "qa_score" not in other.library and other.tiers["satisfaction"] == center


def test_an_empty_config_book_answers_the_domain_defaults() -> None:
    book = ConfigBook(date(2026, 3, 1), {}, {})
    config = book.for_owner("C1", "C1-D1", "agent")
    assert dict(config.library) == default_library()
    assert dict(config.tiers) == default_tiers()
    assert config.veto == DEFAULT_VETO and config.satisfied_min_score == 4
    assert book.for_owner("C1", "C1-D1", "agent") is config  # cached
    with pytest.raises(TypeError):
        config.tiers["aht"] = default_tiers()["fcr"]  # type: ignore[index]
    assert Direction.LOWER is config.library["aht"].direction


# --- the loader's files --------------------------------------------------------------------------

HEADER = ",".join(CSV_COLUMNS) + "\n"


def test_csv_rows_build_the_tree() -> None:
    content = HEADER + (
        "C1,广州客服中心,,C1-D1,综合服务一部,T1,一组,A1,王伟\n"
        "C1,广州客服中心,,C1-D1,综合服务一部,T1,一组,A3,张敏\n"
        "C1,广州客服中心,,C1-D1,综合服务一部,T2,二组,A2,李娜\n"
        "C1,广州客服中心,,C1-D1,综合服务一部,T3,三组,,\n"
    )
    tree = tree_from_csv(content)
    expected = small_tree()
    _team(expected, 0)["agents"].append({"id": "A3", "name": "张敏"})
    expected["centers"][0]["departments"][0]["teams"].append(
        {"id": "T3", "name": "三组", "agents": []}
    )
    assert tree == expected


@pytest.mark.parametrize(
    ("rows", "reason"),
    [
        ("C1,a,,D1,d,T1,t,A1,x\nC1,b,,D1,d,T1,t,A2,y\n", "center 'C1' has name 'a' and 'b'"),
        (
            "C1,a,,D1,d,T1,t,A1,x\nC2,b,,D1,d,T1,t,A2,y\n",
            "department 'D1' appears under 'C1' and 'C2'",
        ),
        ("C1,a,,D1,d,,,A1,x\n", "every level above a given id needs its id too"),
    ],
)
def test_conflicting_csv_rows_are_refused(rows: str, reason: str) -> None:
    with pytest.raises(OrgFileError) as caught:
        tree_from_csv(HEADER + rows)
    assert reason in str(caught.value)


def test_a_csv_without_the_columns_is_refused() -> None:
    with pytest.raises(OrgFileError, match="missing columns: timezone"):
        tree_from_csv("center_id,center_name,department_id\n")


def test_read_org_file_takes_json_and_the_effective_day(tmp_path: Path) -> None:
    path = tmp_path / "org.json"
    path.write_text(json.dumps({**small_tree(), "effective_from": "2026-03-01"}), encoding="utf-8")
    assert read_org_file(path).effective_from == date(2026, 3, 1)
    assert read_org_file(path, effective_from=date(2026, 4, 1)).effective_from == date(2026, 4, 1)
    path.write_text('{"centers": [{"id": "C1"}]}', encoding="utf-8")
    with pytest.raises(OrgFileError, match=r"centers\.0\.name"):
        read_org_file(path)
