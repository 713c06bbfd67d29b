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


TEMPLATES: dict[Language, dict[NotifyKind, str]] = {
    "en": {
        "resolved": "[Complaint alert resolved] {category} complaints{where}: incident #{id} "
        "resolved {how} after {minutes} min, peak {peak}.",
        "repeat": "[Complaint alert - reminder] {category} complaints{where}: incident #{id} not "
        "acknowledged, {count} in {window} min (peak {peak}, baseline {baseline}), open "
        "{minutes} min, level L{level}.",
        "alert": "[Complaint alert] {category} complaints{where} surged to {count} in {window} "
        "min (baseline {baseline}), open {minutes} min, level L{level}. Incident #{id}",
    },
    "zh": {
        "resolved": "【投诉预警解除】{where}{category}投诉事件#{id}{how},共持续{minutes}分钟,"
        "峰值{peak}件。",
        "repeat": "【投诉预警·重复提醒】{where}{category}投诉事件#{id}未确认,{window}分钟内"
        "{count}件(峰值{peak}件,基线{baseline}件),已持续{minutes}分钟,当前L{level}级。",
        "alert": "【投诉预警】{where}{category}投诉{window}分钟内激增至{count}件(基线{baseline}件),"
        "已持续{minutes}分钟,当前L{level}级。事件#{id}",
    },
}
"""SMS texts by language and kind (an alert at a new level, a repeat, a resolution)."""

_HOW: dict[Language, tuple[str, str]] = {
    "en": ("automatically", "manually"),
    "zh": ("自动解除", "已人工解除"),
}


def render_sms(kind: NotifyKind, facts: SmsFacts, language: Language = "zh") -> str:
    """Render the SMS text (Chinese by default), e.g.

    【投诉预警】网络类投诉30分钟内激增至57件(基线8件),已持续25分钟,当前L2级。事件#123
    """
    everywhere = facts.region == ALL_REGIONS
    if language == "en":
        category = facts.category
        where = "" if everywhere else f" in {facts.region}"
    else:
        category = CATEGORY_NAMES["zh"].get(facts.category, f"{facts.category}类")
        where = "" if everywhere else REGION_NAMES["zh"].get(facts.region, facts.region)
    automatic, manual = _HOW[language]
    template = TEMPLATES[language][kind]
    return template.format(
        category=category,
        where=where,
        id=facts.incident_id,
        how=automatic if facts.resolution == "cooldown" else manual,
        minutes=int(facts.minutes_open),
        peak=facts.peak_count,
        count=facts.count,
        window=facts.window_minutes,
        baseline=round(facts.baseline),
        level=facts.level,
    )
