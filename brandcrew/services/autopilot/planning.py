"""Planning a cycle (slots: when, where, which pillar) and adjusting the next one by what worked."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, time, timedelta
from statistics import mean

from pydantic import BaseModel, Field

from brandcrew.services.autopilot.spec import CampaignSpec

MIN_POSTS_TO_ADJUST = 2
"""A pillar or hour needs this many measured posts before its results move the plan."""
HOUR_GAIN = 1.2
"""Posting hours are reordered only when the best hour beats the current first one by 20%."""
MIN_POSTS_PER_HOUR = 3
"""An hour needs this many measured posts before its reach can reorder the posting hours."""
MAX_STEP = 0.5
"""A cycle changes a pillar's weight by at most +-50%: results of a few posts are noisy."""


class Slot(BaseModel):
    """One post to make: where, when (UTC), which pillar and topic."""

    key: str
    platform: str
    at: datetime
    pillar: str
    topic: str
    angle: str = ""


class Tuning(BaseModel):
    """What the adjust step can change between cycles."""

    weights: dict[str, float] = Field(default_factory=dict)
    """Pillar name -> weight."""
    hours: dict[str, list[int]] = Field(default_factory=dict)
    """Platform -> local posting hours in order of preference."""
    pillar_counts: dict[str, int] = Field(default_factory=dict)
    """Posts planned per pillar so far (keeps the pillar mix and topic rotation across cycles)."""

    @classmethod
    def initial(cls, spec: CampaignSpec) -> Tuning:
        """The campaign file's own weights and hours."""
        return cls(
            weights={p.name: p.weight for p in spec.pillars},
            hours={p.platform: list(spec.posting_hours) for p in spec.platforms},
        )


class Adjustment(BaseModel):
    """One change to the plan and why it was made."""

    what: str
    before: str
    after: str
    why: str


def _posts_on_day(per_day: float, day: int) -> int:
    # Cumulative rounding: over the campaign the count is exactly per_day x days, spread evenly.
    return math.floor((day + 1) * per_day + 1e-9) - math.floor(day * per_day + 1e-9)


def _allowed_hours(spec: CampaignSpec, preferred: Sequence[int]) -> list[int]:
    hours = [h for h in preferred if spec.quiet_hours is None or not spec.quiet_hours.contains(time(h))]
    rest = [
        h
        for h in range(7, 23)
        if h not in hours and (spec.quiet_hours is None or not spec.quiet_hours.contains(time(h)))
    ]
    return hours + rest


def _next_pillar(weights: Mapping[str, float], counts: Mapping[str, int]) -> str:
    total_w = sum(weights.values())
    total_n = sum(counts.get(p, 0) for p in weights) + 1
    # The pillar furthest below its share so far (smooth weighted round-robin; ties by file order).
    return max(weights, key=lambda p: weights[p] / total_w * total_n - counts.get(p, 0))


def plan_slots(
    spec: CampaignSpec, cycle: int, tuning: Tuning, *, angles: Sequence[str] = ()
) -> tuple[list[Slot], Tuning]:
    """The cycle's slots, and the tuning with this cycle's pillar counts added."""
    start, end = spec.cycle_window(cycle)
    counts = dict(tuning.pillar_counts)
    topics = {p.name: p.topics or [p.name] for p in spec.pillars}
    slots: list[Slot] = []
    day0 = (start.date() - spec.start).days
    for offset in range((end.date() - start.date()).days or 1):
        day = day0 + offset
        local_day = spec.starts_at() + timedelta(days=day)
        for index, plan in enumerate(spec.platforms):
            n = _posts_on_day(plan.per_day, day)
            hours = _allowed_hours(spec, tuning.hours.get(plan.platform, spec.posting_hours))
            chosen = sorted(hours[: max(n, 0)])
            for i, hour in enumerate(chosen):
                pillar = _next_pillar(tuning.weights, counts)
                nth = counts.get(pillar, 0)
                counts[pillar] = nth + 1
                # Platforms post a few minutes apart, so one account's slot never waits on another's.
                at = local_day.replace(hour=hour, minute=(7 * index + 3 * i) % 60)
                angle = angles[len(slots) % len(angles)] if angles and len(slots) % 3 == 0 else ""
                slots.append(
                    Slot(
                        key=f"c{cycle}-d{day}-{plan.platform}-{i}",
                        platform=plan.platform,
                        at=at.astimezone(UTC),
                        pillar=pillar,
                        topic=topics[pillar][nth % len(topics[pillar])],
                        angle=angle,
                    )
                )
    return slots, tuning.model_copy(update={"pillar_counts": counts})


class Measured(BaseModel):
    """A published campaign post with its latest counters (from analytics)."""

    platform: str
    pillar: str
    local_hour: int
    impressions: int
    engagements: int

    @property
    def rate(self) -> float:
        """Engagements per impression."""
        return self.engagements / self.impressions if self.impressions else 0.0


def adjust(
    spec: CampaignSpec, measured: Sequence[Measured], tuning: Tuning
) -> tuple[Tuning, list[Adjustment]]:
    """Shift pillar weights toward what earns engagement and hours toward what earns reach; say why."""
    changes: list[Adjustment] = []
    weights = dict(tuning.weights)
    seen = [m for m in measured if m.impressions > 0]
    if seen:
        overall = sum(m.engagements for m in seen) / max(1, sum(m.impressions for m in seen))
        by_pillar: dict[str, list[Measured]] = defaultdict(list)
        for m in seen:
            by_pillar[m.pillar].append(m)
        base = {p.name: p.weight for p in spec.pillars}
        for pillar, posts in by_pillar.items():
            if pillar not in weights or len(posts) < MIN_POSTS_TO_ADJUST or overall <= 0:
                continue
            rate = sum(m.engagements for m in posts) / max(1, sum(m.impressions for m in posts))
            ratio = rate / overall
            # The file's weight scaled by how the pillar does against the campaign (bounded): a
            # pillar above average gets more posts than planned, one below gets fewer.
            new = round(base[pillar] * min(1 + MAX_STEP, max(1 - MAX_STEP, ratio)), 2)
            if abs(new - weights[pillar]) >= 0.05 * base[pillar]:
                changes.append(
                    Adjustment(
                        what=f"pillar weight: {pillar}",
                        before=f"{weights[pillar]:.2f}",
                        after=f"{new:.2f}",
                        why=(
                            f"engagement rate {rate:.2%} over {len(posts)} posts vs {overall:.2%} "
                            f"for the campaign ({'better' if ratio > 1 else 'worse'} than average; "
                            f"weight = planned {base[pillar]:g} x {min(1 + MAX_STEP, max(1 - MAX_STEP, ratio)):.2f})"
                        ),
                    )
                )
                weights[pillar] = new
    hours = {k: list(v) for k, v in tuning.hours.items()}
    by_platform_hour: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for m in seen:
        by_platform_hour[m.platform][m.local_hour].append(m.impressions)
    for platform, per_hour in by_platform_hour.items():
        ranked = sorted(
            ((h, mean(v)) for h, v in per_hour.items() if len(v) >= MIN_POSTS_PER_HOUR),
            key=lambda hv: hv[1],
            reverse=True,
        )
        if len(ranked) < 2:
            continue
        current = hours.get(platform, list(spec.posting_hours))
        means = dict(ranked)
        if current and current[0] in means and ranked[0][1] < HOUR_GAIN * means[current[0]]:
            continue  # not clearly better than the hour posted first now: keep it (no thrash)
        best = [h for h, _ in ranked]
        new_order = best + [h for h in current if h not in best]
        if new_order[: len(best)] != current[: len(best)]:
            top, top_mean = ranked[0]
            low, low_mean = ranked[-1]
            changes.append(
                Adjustment(
                    what=f"posting hours: {platform}",
                    before=", ".join(f"{h:02d}:00" for h in current[:3]),
                    after=", ".join(f"{h:02d}:00" for h in new_order[:3]),
                    why=(
                        f"posts at {top:02d}:00 averaged {top_mean:,.0f} impressions vs {low_mean:,.0f} "
                        f"at {low:02d}:00 (the account's own results)"
                    ),
                )
            )
            hours[platform] = new_order
    return tuning.model_copy(update={"weights": weights, "hours": hours}), changes
