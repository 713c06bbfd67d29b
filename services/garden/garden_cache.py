"""The agents' gardens kept in the process between reads, forgotten when their rows change.

Pure: no I/O, no clock. An agent's garden changes only when its rows do (a settled day, a
preview, a harvest, a configuration version, a membership change); the database says so
after each commit (`garden_listener.ChangeListener`), and this module decides what may be
served and stored:

- one entry per agent id: the member (for the access check), the center, the business day
  it was read for, the body and its ETag; at most `size` entries, the least recently used
  forgotten first (`size` 0: nothing is ever kept);
- an entry serves only the business day it was read for (`today_of(center)`, the center's
  day as the statement computes it), so a day rollover misses;
- a monotonic `epoch`, bumped by every invalidation. A reader takes `epoch` before its
  statement runs and stores the result only if no invalidation of that agent (or of
  everything) came after that epoch: a read that may have seen the rows before a commit
  is never stored once the commit's notification was heard;
- while the notifications are not heard (`enabled` False: before the listener connects,
  after it lost its connection) nothing is served and nothing stored; enabling forgets
  everything first, since anything may have changed unseen.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from services.garden.repo.reads import Member

_REMEMBERED = 4096
"""Invalidations remembered by agent id for readers still running; an older one is kept
only as a floor (a read that started before it stores nothing)."""


@dataclass(frozen=True, slots=True)
class CachedGarden:
    """An agent's garden as one read found it."""

    member: Member | None
    center: str | None
    """The center whose business day the read used (None: the agent has no place yet)."""
    today: date
    body: bytes
    etag: str


class GardenCache:
    """Agents' gardens by agent id (see the module's description)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.enabled = False
        self.epoch = 0
        self._entries: OrderedDict[str, CachedGarden] = OrderedDict()
        self._changed: OrderedDict[str, int] = OrderedDict()
        """The epoch of each agent's latest invalidation, oldest first."""
        self._floor = 0
        """Readers that started before this epoch store nothing: everything was forgotten
        then, or an agent's invalidation then is no longer remembered."""

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, agent_id: str, today_of: Callable[[str | None], date]) -> CachedGarden | None:
        """Return the agent's garden if it is kept and was read for the business day
        `today_of(center)` gives now (None: read it)."""
        if not self.enabled:
            return None
        entry = self._entries.get(agent_id)
        if entry is None:
            return None
        if entry.today != today_of(entry.center):
            del self._entries[agent_id]
            return None
        self._entries.move_to_end(agent_id)
        return entry

    def store(self, agent_id: str, entry: CachedGarden, epoch: int) -> bool:
        """Keep what a read that took `epoch` before its statement found, unless the agent
        (or everything) was invalidated since; return whether it was kept."""
        if not self.enabled or self.size <= 0:
            return False
        if epoch < self._floor or self._changed.get(agent_id, 0) > epoch:
            return False
        self._entries[agent_id] = entry
        self._entries.move_to_end(agent_id)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
        return True

    def forget(self, agent_ids: Iterable[str]) -> int:
        """Invalidate these agents' gardens; return how many ids were invalidated."""
        count = 0
        for agent_id in agent_ids:
            self.epoch += 1
            count += 1
            self._entries.pop(agent_id, None)
            self._changed[agent_id] = self.epoch
            self._changed.move_to_end(agent_id)
        while len(self._changed) > _REMEMBERED:
            _, oldest = self._changed.popitem(last=False)
            self._floor = max(self._floor, oldest)
        return count

    def forget_all(self) -> None:
        """Invalidate every garden (a configuration version, or changes that went unseen)."""
        self.epoch += 1
        self._floor = self.epoch
        self._entries.clear()
        self._changed.clear()

    def enable(self) -> None:
        """Serve and store again, from nothing: the notifications are heard from now on."""
        self.forget_all()
        self.enabled = True

    def disable(self) -> None:
        """Serve and store nothing: the notifications are no longer heard."""
        self.enabled = False
        self.forget_all()
