"""The org tree as `PUT /v1/org` and the file loader take it."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.vocabulary import DEFAULT_TIMEZONE


class NodeIn(BaseModel):
    """A unit or agent of the tree: its id and name."""

    model_config = ConfigDict(extra="ignore")

    id: str
    name: str


class AgentIn(NodeIn):
    """An agent in the tree."""


class TeamIn(NodeIn):
    """A team and its agents."""

    agents: list[AgentIn] = Field(default_factory=list)


class DepartmentIn(NodeIn):
    """A department and its teams."""

    teams: list[TeamIn] = Field(default_factory=list)


class CenterIn(NodeIn):
    """A center, its time zone and its departments."""

    timezone: str = DEFAULT_TIMEZONE
    departments: list[DepartmentIn] = Field(default_factory=list)


class OrgTree(BaseModel):
    """The whole organisation, as `PUT /v1/org` takes it."""

    model_config = ConfigDict(extra="ignore")

    centers: list[CenterIn]


class OrgPut(OrgTree):
    """The tree plus the day the changes take effect (default: today in each center's zone)."""

    effective_from: date | None = None
