"""Campaign files, slot planning and adjustment, and the checks a draft passes."""

from __future__ import annotations

from collections import Counter
from datetime import time
from pathlib import Path

import pytest
import yaml

from brandcrew.errors import ConfigError
from brandcrew.services.autopilot import checks, planning
from brandcrew.services.autopilot.spec import ApprovalPolicy, CampaignSpec, load_campaign
from tests.utils.autopilot import REPO, campaign_file


def test_demo_campaign_file_is_valid() -> None:
    spec = load_campaign(REPO / "configs" / "campaigns" / "demo.yaml")
    assert spec.cycles == 14 and spec.approval.mode == "rules"
    assert spec.approval.min_brand_voice == 0.5 and spec.approval.no_risk_flags
    assert all(Path(m).is_file() for m in spec.media)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"approval": "auto when the moon is full"}, "approval rule 'the moon is full' is not understood"),
        ({"approval": "sometimes"}, "approval 'sometimes' is not understood"),
        ({"timezone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
        ({"platforms": [{"platform": "myspace"}]}, "unknown platform 'myspace'"),
        ({"budget_usd": -1}, "budget_usd: Input should be greater than or equal to 0"),
        ({"posting_hours": [23]}, "every posting hour falls in the quiet hours"),
        ({"media": []}, "instagram posts need media"),
        ({"media": ["media/nope.jpg"]}, "files not found"),
        ({"surprise": 1}, "surprise: Extra inputs are not permitted"),
    ],
)
def test_bad_campaign_files_get_clear_errors(tmp_path: Path, change: dict, message: str) -> None:
    path = campaign_file(tmp_path, **change)
    with pytest.raises(ConfigError) as err:
        load_campaign(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_approval_rules_parse() -> None:
    policy = ApprovalPolicy.parse("auto when brand voice >= 0.8 and no risk flags and no near duplicates")
    assert (policy.mode, policy.min_brand_voice, policy.no_risk_flags, policy.no_near_duplicates) == (
        "rules",
        0.8,
        True,
        True,
    )


def _spec(tmp_path: Path, **change: object) -> CampaignSpec:
    return load_campaign(campaign_file(tmp_path, **change))


def test_slots_follow_cadence_quiet_hours_and_pillar_weights(tmp_path: Path) -> None:
    spec = _spec(
        tmp_path,
        days=10,
        platforms=[{"platform": "x", "per_day": 1.5}, {"platform": "instagram", "per_day": 0.5}],
        posting_hours=[6, 9, 23, 13],
        pillars=[{"name": "a", "weight": 3}, {"name": "b", "weight": 1}],
    )
    tuning = planning.Tuning.initial(spec)
    slots: list[planning.Slot] = []
    for cycle in range(spec.cycles):
        more, tuning = planning.plan_slots(spec, cycle, tuning)
        slots += more
    per_platform = Counter(s.platform for s in slots)
    assert per_platform == {"x": 15, "instagram": 5}  # exactly per_day x days
    local_hours = {s.at.astimezone(spec.zone).hour for s in slots}
    assert local_hours <= {9, 13} and all(not spec.quiet_hours.contains(time(h)) for h in local_hours)  # type: ignore[union-attr]
    pillars = Counter(s.pillar for s in slots)
    assert pillars == {"a": 15, "b": 5}  # the 3:1 mix, exactly
    assert len({s.key for s in slots}) == len(slots)


def test_adjust_moves_weights_toward_what_works_and_says_why(tmp_path: Path) -> None:
    spec = _spec(tmp_path, pillars=[{"name": "tips", "weight": 1}, {"name": "news", "weight": 1}])
    measured = [
        planning.Measured(platform="x", pillar="tips", local_hour=9, impressions=1000, engagements=80)
    ] * 3
    measured += [
        planning.Measured(platform="x", pillar="news", local_hour=13, impressions=1000, engagements=20)
    ] * 3
    tuning, changes = planning.adjust(spec, measured, planning.Tuning.initial(spec))
    assert tuning.weights["tips"] > 1 > tuning.weights["news"]
    why = {c.what: c.why for c in changes}
    assert "8.00% over 3 posts vs 5.00%" in why["pillar weight: tips"]
    assert "worse than average" in why["pillar weight: news"]
    # Equal reach at 9 and 13: hours stay (no thrash on noise); two posts at 18 are not enough.
    few = [
        planning.Measured(platform="x", pillar="tips", local_hour=18, impressions=9000, engagements=90)
    ] * 2
    assert planning.adjust(spec, measured + few, tuning)[0].hours["x"][0] != 18
    assert not any(c.what.startswith("posting hours") for c in changes)
    more = [
        planning.Measured(platform="x", pillar="tips", local_hour=18, impressions=3000, engagements=90)
    ] * 3
    tuning, changes = planning.adjust(spec, measured + more, tuning)
    assert tuning.hours["x"][0] == 18
    assert any("posts at 18:00 averaged 3,000 impressions" in c.why for c in changes)


def test_risk_flags_and_near_duplicates() -> None:
    flags = checks.risk_flags(
        "Our beans cure headaches, guaranteed! Vote for coffee.",
        banned_words=["cheap"],
        extra_topics=["strike"],
    )
    assert any("health claims (cure)" in f for f in flags) and any("promises" in f for f in flags)
    assert checks.risk_flags("Cold brew at home: grind coarse, steep 16 hours.") == []
    base = "Cold brew at home: grind coarse, steep for sixteen hours, then filter. #NorthwindCoffee"
    near = "Cold brew at home: grind coarse, steep for sixteen hours, then filter twice. #HomeBarista https://x.example"
    assert checks.similarity(base, near) > 0.6
    assert checks.similarity(base, "Meet the Guji farmers who grow our washed coffee.") < 0.1
    assert checks.nearest(near, [("p1", "unrelated words here now"), ("p2", base)])[0] == "p2"


def test_decide_applies_the_policy() -> None:
    rules = ApprovalPolicy.parse("auto when brand voice >= 0.8 and no risk flags")
    ok = checks.CheckResult(voice_score=0.9)
    assert checks.decide(rules, ok, duplicate_threshold=0.8).verdict == "auto_approved"
    low = checks.decide(rules, checks.CheckResult(voice_score=0.5), duplicate_threshold=0.8)
    assert low.verdict == "needs_person" and "brand voice 0.50 < 0.80" in low.reasons[0]
    risky = checks.decide(
        rules, checks.CheckResult(voice_score=0.9, risk_flags=["x"]), duplicate_threshold=0.8
    )
    assert risky.verdict == "needs_person"
    dup = checks.CheckResult(voice_score=0.9, duplicate_of="p1", similarity=0.9)
    assert checks.decide(rules, dup, duplicate_threshold=0.8).verdict == "dropped"
    bad = checks.CheckResult(valid=False, violations=["too long"])
    assert checks.decide(ApprovalPolicy.parse("auto"), bad, duplicate_threshold=0.8).verdict == "dropped"
    assert checks.decide(ApprovalPolicy.parse("human"), ok, duplicate_threshold=0.8).verdict == "needs_person"


def test_campaign_yaml_round_trip(tmp_path: Path) -> None:
    path = campaign_file(tmp_path)
    data = yaml.safe_load(path.read_text())
    assert load_campaign(path).name == data["name"]
