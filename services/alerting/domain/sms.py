"""SMS rules (domain.md §8): a per-recipient rate limit, retry backoff, and the text
of an alert, a reminder and a resolution."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.alerting.domain.incidents import NotifyKind
from services.alerting.domain.surge import ALL_REGIONS, Language


@dataclass(frozen=True, slots=True)
class RecipientRateLimit:
    """At most `limit` SMS per recipient in any `window`; later ones wait (never dropped)."""

    limit: int
    window: timedelta

    def next_allowed(self, sent: Sequence[datetime], now: datetime) -> datetime:
        """Return when the next SMS may go to a recipient who was sent SMS at `sent`."""
        recent = sorted(t for t in sent if t > now - self.window)
        if len(recent) < self.limit:
            return now
        return recent[len(recent) - self.limit] + self.window


def retry_delay(attempt: int, *, base: float, cap: float, jitter: float = 0.0) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based): exponential,
    capped, with `jitter` in [0, 1) spreading retries of many messages."""
    delay: float = min(cap, base * float(2 ** max(0, attempt - 1)))
    return delay * (1 + 0.25 * jitter)


CATEGORY_NAMES: dict[Language, dict[str, str]] = {
    "zh": {
        "network": "网络类",
        "billing": "计费类",
        "product": "产品类",
        "service": "服务类",
        "other": "其他类",
    },
    "en": {},
}
REGION_NAMES: dict[Language, dict[str, str]] = {
    "zh": {
        "guangzhou": "广州",
        "shenzhen": "深圳",
        "dongguan": "东莞",
        "foshan": "佛山",
        "huizhou": "惠州",
        "zhuhai": "珠海",
        "zhongshan": "中山",
        "shantou": "汕头",
    },
    "en": {},
}


@dataclass(frozen=True, slots=True)
class SmsFacts:
    """What an SMS about an incident says."""

    incident_id: int
    category: str
    region: str
    count: int
    baseline: float
    minutes_open: float
    level: int
    window_minutes: int
    peak_count: int = 0
    resolution: str | None = None


def render_sms(kind: NotifyKind, facts: SmsFacts, language: Language = "zh") -> str:
    """Render the SMS text (Chinese by default), e.g.

    【投诉预警】网络类投诉30分钟内激增至57件(基线8件),已持续25分钟,当前L2级。事件#123
    """
    baseline = round(facts.baseline)
    minutes = int(facts.minutes_open)
    if language == "en":
        where = f" in {facts.region}" if facts.region != ALL_REGIONS else ""
        if kind == "resolved":
            how = "automatically" if facts.resolution == "cooldown" else "manually"
            return (
                f"[Complaint alert resolved] {facts.category} complaints{where}: incident "
                f"#{facts.incident_id} resolved {how} after {minutes} min, peak {facts.peak_count}."
            )
        if kind == "repeat":
            return (
                f"[Complaint alert - reminder] {facts.category} complaints{where}: incident "
                f"#{facts.incident_id} not acknowledged, {facts.count} in {facts.window_minutes} "
                f"min (peak {facts.peak_count}, baseline {baseline}), open {minutes} min, "
                f"level L{facts.level}."
            )
        return (
            f"[Complaint alert] {facts.category} complaints{where} surged to {facts.count} in "
            f"{facts.window_minutes} min (baseline {baseline}), open {minutes} min, "
            f"level L{facts.level}. Incident #{facts.incident_id}"
        )
    category = CATEGORY_NAMES["zh"].get(facts.category, f"{facts.category}类")
    where = (
        "" if facts.region == ALL_REGIONS else REGION_NAMES["zh"].get(facts.region, facts.region)
    )
    if kind == "resolved":
        how = "自动解除" if facts.resolution == "cooldown" else "已人工解除"
        return (
            f"【投诉预警解除】{where}{category}投诉事件#{facts.incident_id}{how},"
            f"共持续{minutes}分钟,峰值{facts.peak_count}件。"
        )
    if kind == "repeat":
        return (
            f"【投诉预警·重复提醒】{where}{category}投诉事件#{facts.incident_id}未确认,"
            f"{facts.window_minutes}分钟内{facts.count}件(峰值{facts.peak_count}件,基线{baseline}件),"
            f"已持续{minutes}分钟,当前L{facts.level}级。"
        )
    return (
        f"【投诉预警】{where}{category}投诉{facts.window_minutes}分钟内激增至{facts.count}件"
        f"(基线{baseline}件),已持续{minutes}分钟,当前L{facts.level}级。事件#{facts.incident_id}"
    )
