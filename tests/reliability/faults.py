"""The fault schedule of a pipeline run, drawn from the run's seed.

Times are seconds after the feed starts. Each fault is applied at its time,
concurrently with the others; the faults of one target (a service, its second
instance, the broker, the database, the gateway) one after another, so one may
run late behind a slow restart. The log says when each one actually ran.
"""

from __future__ import annotations

from dataclasses import dataclass
from random import Random

CONSUMERS = ("scoring", "alerting", "garden", "rewards")
"""Every consumer service is killed (-9) at least once per round."""
SCALED = ("scoring", "garden")
"""A second instance of these joins their consumer group and leaves it again."""


@dataclass(frozen=True, slots=True)
class Fault:
    at: float
    action: str
    """`kill <service>`, `join <service>`, `leave <service>`, `restart kafka`,
    `restart postgres`, `sms down`, `sms up`."""
    pause: float = 0.0
    """After a kill, how long the service stays down before it is started again."""

    @property
    def target(self) -> str:
        """What the fault acts on (faults of one target apply in order)."""
        verb, what = self.action.split(" ")
        return f"{what}-2" if verb in ("join", "leave") else what

    def __str__(self) -> str:
        down = f" (down {self.pause:.1f} s)" if self.pause else ""
        return f"t+{self.at:5.1f}s {self.action}{down}"


def schedule(seed: int, *, feed_seconds: float, surge_at: float, rounds: int = 1) -> list[Fault]:
    """Return the faults of a run: per round every consumer killed, the broker and the
    database restarted, a second scoring and garden instance joining and leaving; the SMS
    gateway down from just before the surge's complaints arrive for a while."""
    rng = Random(f"faults:{seed}")
    span = feed_seconds + 10  # downstream services keep working after the feed
    faults: list[Fault] = []
    for service in SCALED:  # one second instance at a time: each joins after the last left
        slot = span * 0.6 / rounds
        for n in range(rounds):
            joined = n * slot + rng.uniform(1.0, max(1.0, slot - 12.0))
            faults.append(Fault(joined, f"join {service}"))
            faults.append(Fault(joined + rng.uniform(4.0, 11.0), f"leave {service}"))
    for _ in range(rounds):
        for service in CONSUMERS:
            late = service in ("garden", "rewards")  # their input arrives later
            at = rng.uniform(span * 0.3 if late else 1.0, span if late else feed_seconds)
            faults.append(Fault(at, f"kill {service}", pause=rng.uniform(0.2, 3.0)))
        faults.append(Fault(rng.uniform(3.0, feed_seconds), "restart kafka"))
        faults.append(Fault(rng.uniform(3.0, span), "restart postgres"))
    down = max(0.0, surge_at - 1.0)
    faults.append(Fault(down, "sms down"))
    faults.append(Fault(down + rng.uniform(6.0, 12.0), "sms up"))
    return sorted(faults, key=lambda f: f.at)


def describe(seed: int, faults: list[Fault]) -> str:
    lines = [f"fault schedule of seed {seed} (replay: RELIABILITY_SEED={seed}):"]
    lines += [f"  {fault}" for fault in faults]
    return "\n".join(lines)
