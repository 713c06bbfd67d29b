"""The garden configuration in force on a day, per center, from its stored versions.

A version applies from its `effective_from` day on (the first version stored
before anything grew applies to every day); a center without a version grows
with `DEFAULT_CONFIG`.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from services.garden.domain.config import DEFAULT_CONFIG, GardenConfig, config_from_document
from services.garden.domain.growth import ConfigFor


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """A configuration version as stored."""

    id: int
    center_id: str
    effective_from: date
    document: Mapping[str, Any]
    created_by: str


@dataclass(frozen=True)
class ConfigBook:
    """Every version of some centers, ready to answer "which configuration on this day"."""

    _starts: dict[str, list[date]] = field(default_factory=dict)
    _configs: dict[str, list[GardenConfig]] = field(default_factory=dict)

    @classmethod
    def of(cls, versions: Iterable[StoredVersion]) -> ConfigBook:
        """Build the book from stored versions (any order)."""
        book = cls()
        ordered = sorted(versions, key=lambda v: (v.center_id, v.effective_from, v.id))
        for version in ordered:
            starts = book._starts.setdefault(version.center_id, [])
            configs = book._configs.setdefault(version.center_id, [])
            config = config_from_document(version.document)
            if starts and starts[-1] == version.effective_from:  # a later version of one day wins
                configs[-1] = config
            else:
                starts.append(version.effective_from)
                configs.append(config)
        return book

    def on(self, center_id: str, day: date) -> GardenConfig:
        """Return the configuration of `center_id` in force on `day`."""
        starts = self._starts.get(center_id)
        if not starts:
            return DEFAULT_CONFIG
        at = bisect.bisect_right(starts, day) - 1
        return self._configs[center_id][at] if at >= 0 else DEFAULT_CONFIG

    def for_center(self, center_id: str) -> ConfigFor:
        """Return the configuration-for-a-day function of one center (what `grow` takes)."""
        return lambda day: self.on(center_id, day)
