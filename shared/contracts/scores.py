"""Events on `cc.scores.v1` (scoring): a day's indicator result for one owner.

Keyed by owner id, so one owner's results stay in order. For each owner, day
and indicator there are zero or more `score.previewed` (live, revision 1, 2,
...) and then exactly one `score.settled` (final). Garden grows plants from
the settled ones and shows the previews.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StrictBool, StrictFloat, StrictInt

from shared.contracts.derived import BusinessDate, DerivedEvent, Name
from shared.contracts.topics import SCORES

HealthStateName = Literal["healthy", "pests", "withered", "not_rated"]
OwnerKindName = Literal["agent", "team", "department", "center"]


class ScoreRecorded(DerivedEvent):
    """An owner's result for one indicator on one business day."""

    topic = SCORES

    source: Literal["scoring"] = "scoring"
    settled: StrictBool
    revision: Annotated[StrictInt, Field(ge=1)]
    """1, 2, ... per owner, day and indicator; the settled record has the highest."""
    owner_kind: OwnerKindName
    owner_id: Name
    business_date: BusinessDate
    indicator: Name
    fruit: Name | None
    center_id: Name
    department_id: Name | None
    team_id: Name | None
    value: StrictFloat | None
    """The indicator's value (None when nothing could be measured)."""
    sample: Annotated[StrictFloat, Field(ge=0)]
    points: Annotated[StrictFloat, Field(ge=0)]
    state: HealthStateName

    @property
    def partition_key(self) -> str:
        return self.owner_id


class ScorePreviewed(ScoreRecorded):
    """A live, provisional result while the day is open; grows nothing."""

    type: Literal["score.previewed"] = "score.previewed"
    settled: Literal[False] = False


class ScoreSettled(ScoreRecorded):
    """The final result of a settled day."""

    type: Literal["score.settled"] = "score.settled"
    settled: Literal[True] = True


SCORE_EVENTS: tuple[type[ScoreRecorded], ...] = (ScorePreviewed, ScoreSettled)
