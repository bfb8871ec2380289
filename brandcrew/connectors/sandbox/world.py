"""A sandbox world: the brand's accounts, competitors, audiences, clock, faults and crises, from a seed.

`SandboxWorld.create(engine, seed=7, brand="Acme", platforms=["x", "linkedin"])` generates the same
accounts for the same seed (every draw comes from `rng(seed, purpose)`), stores them, and returns the
world; `world.own_accounts()` are the descriptors the accounts service stores as SocialAccounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Final, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from brandcrew.connectors.base import AccountAuth, RemotePost
from brandcrew.connectors.sandbox import _state, _text
from brandcrew.connectors.sandbox._rng import digest, lognormal_unit, number, rng, weighted_choice
from brandcrew.connectors.sandbox.clock import SandboxClock, clock_time, to_utc
from brandcrew.connectors.sandbox.competitors import GeneratedPost, competitor_posts
from brandcrew.connectors.sandbox.faults import FaultPlan
from brandcrew.connectors.sandbox.streams import SandboxCrisis
from brandcrew.store.engine import write_transaction
from brandcrew.store.tables._base import utcnow
from brandcrew.store.tables.sandbox import (
    SandboxAccountRow,
    SandboxCallRow,
    SandboxCrisisRow,
    SandboxPostRow,
    SandboxTokenRow,
    SandboxWorldRow,
)

if TYPE_CHECKING:
    from brandcrew.connectors.sandbox.connector import SandboxConnector

__all__ = (
    "COMPETITOR_CADENCE",
    "TYPICAL_AUDIENCE",
    "SandboxAccount",
    "SandboxBrand",
    "SandboxCall",
    "SandboxWorld",
)

TYPICAL_AUDIENCE: Final[Mapping[str, int]] = {
    # Median followers of a brand account when none is given (each world draws around it).
    "x": 8_000,
    "linkedin": 4_000,
    "instagram": 12_000,
    "facebook": 15_000,
    "threads": 3_000,
    "tiktok": 20_000,
    "youtube": 5_000,
    "pinterest": 4_000,
    "reddit": 2_000,
    "sandbox": 5_000,
}
COMPETITOR_CADENCE: Final[Mapping[str, float]] = {
    # Mean public posts per day of a competitor (each draws 0.5x to 1.5x of it).
    "x": 3.0,
    "threads": 2.0,
    "linkedin": 0.7,
    "instagram": 1.0,
    "facebook": 1.0,
    "tiktok": 1.0,
    "youtube": 0.3,
    "pinterest": 2.0,
    "reddit": 0.5,
    "sandbox": 1.0,
}
_HOME_OFFSETS: Final = {"-5": 0.35, "0": 0.2, "1": 0.2, "-8": 0.15, "5.5": 0.1}
_DEFAULT_LANGUAGES: Final = {"en": 0.85, "es": 0.08, "fr": 0.04, "de": 0.03}


class SandboxBrand(BaseModel):
    """The brand a world revolves around; a brand profile's dict (name, products, pillars) fits."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    name: str = "Acme"
    handle: str | None = None
    """Username on every platform; derived from the name when absent."""
    industry: str = ""
    products: tuple[str, ...] = ()
    """Products people talk about; three are made up from the name when absent."""
    topics: tuple[str, ...] = Field(default=(), validation_alias=AliasChoices("topics", "pillars"))
    languages: dict[str, float] = Field(default_factory=lambda: dict(_DEFAULT_LANGUAGES))
    """Language mix of the people who write about the brand."""
    audience_profile: Literal["consumer", "business"] | None = None
    """Audience activity curve; None: business on LinkedIn, consumer elsewhere."""
    utc_offset: float | None = None
    """The audience's home timezone (hours from UTC); None draws one from the seed."""
    followers: int | dict[str, int] | None = None
    """Followers of the brand's accounts (one number or per platform); None draws them from the seed."""


class SandboxAccount(BaseModel):
    """An account of a world, as the accounts service stores it (tokens only for the brand's own)."""

    model_config = ConfigDict(frozen=True)

    world_id: str
    platform: str
    platform_account_id: str
    username: str
    display_name: str
    kind: Literal["own", "competitor"]
    audience: int
    """Followers when the world was created."""
    audience_profile: str
    timezones: list[dict[str, float]]
    access_token: str | None = None
    refresh_token: str | None = None
    token_expiry: datetime | None = None

    @property
    def extra(self) -> dict[str, str]:
        """What to keep in SocialAccount.extra so a connector finds the world."""
        return {"sandbox_world": self.world_id}

    def auth(self, account_id: str = "") -> AccountAuth:
        """An AccountAuth for this account (with brandcrew's id of it when known)."""
        return AccountAuth(
            account_id=account_id or f"{self.world_id}:{self.platform_account_id}",
            platform=self.platform,
            platform_account_id=self.platform_account_id,
            username=self.username,
            access_token=self.access_token or "",
            refresh_token=self.refresh_token,
            token_expiry=self.token_expiry,
            extra=self.extra,
        )


class SandboxCall(BaseModel):
    """One logged call: which attempt of which key, and what happened."""

    operation: str
    call_key: str
    attempt: int
    account_id: str
    outcome: str
    remote_id: str | None
    at: datetime


def _resolve_brand(seed: str, brand: SandboxBrand) -> dict[str, Any]:
    r = rng(seed, "brand")
    suffixes = r.sample(_text.PRODUCT_SUFFIXES, 3)
    return {
        "name": brand.name,
        "handle": brand.handle or _text.handle_of(brand.name),
        "industry": brand.industry,
        "products": list(brand.products) or [f"{brand.name} {s}" for s in suffixes],
        "topics": list(brand.topics) or list(_text.DEFAULT_TOPICS),
        "languages": dict(brand.languages),
    }


def _timezones(seed: str, brand: SandboxBrand) -> list[dict[str, float]]:
    r = rng(seed, "timezones")
    home = brand.utc_offset if brand.utc_offset is not None else float(weighted_choice(r, _HOME_OFFSETS))
    near = home + r.choice((-1.0, 1.0))
    far = r.choice([float(o) for o in _HOME_OFFSETS if abs(float(o) - home) >= 3] or [home + 6])
    return [
        {"utc_offset": home, "share": 0.65},
        {"utc_offset": near, "share": 0.2},
        {"utc_offset": far, "share": 0.15},
    ]


def _generate(
    seed: str,
    world_id: str,
    brand: SandboxBrand,
    resolved: dict[str, Any],
    platforms: Sequence[str],
    competitors: int,
    start: datetime,
) -> list[SandboxAccountRow]:
    zones = _timezones(seed, brand)
    rows: list[SandboxAccountRow] = []
    companies = []
    for i in range(competitors):
        r = rng(seed, "competitor", i)
        name = _text.company_name(r)
        companies.append((name, [f"{name} {s}" for s in r.sample(_text.PRODUCT_SUFFIXES, 2)]))
    for platform in platforms:
        r = rng(seed, "account", platform, "own")
        given = brand.followers
        audience = given.get(platform) if isinstance(given, dict) else given
        if audience is None:
            audience = round(TYPICAL_AUDIENCE.get(platform, 5_000) * lognormal_unit(r, 0.5))
        profile = brand.audience_profile or ("business" if platform == "linkedin" else "consumer")
        rows.append(
            SandboxAccountRow(
                world_id=world_id,
                account_id=f"{platform}-{number(seed, 'account', platform, 'own', digits=12)}",
                platform=platform,
                kind="own",
                username=resolved["handle"],
                display_name=resolved["name"],
                audience=audience,
                daily_growth=r.uniform(0.0005, 0.002),
                following=r.randint(50, 800),
                audience_profile=profile,
                timezones=zones,
                quality=r.uniform(0.85, 1.15),
                refresh_token=f"sbx_rt_{digest(seed, world_id, platform, 'refresh', size=40)}",
                created_at=start,
            )
        )
        taken = {resolved["handle"]}
        for i, (name, products) in enumerate(companies):
            r = rng(seed, "account", platform, "competitor", i)
            username = _text.handle_of(name)
            while username in taken:
                username += str(r.randint(0, 9))
            taken.add(username)
            rows.append(
                SandboxAccountRow(
                    world_id=world_id,
                    account_id=f"{platform}-{number(seed, 'account', platform, 'competitor', i, digits=12)}",
                    platform=platform,
                    kind="competitor",
                    username=username,
                    display_name=name,
                    audience=max(50, round(audience * lognormal_unit(r, 0.7))),
                    daily_growth=r.uniform(0.0003, 0.002),
                    following=r.randint(50, 1500),
                    audience_profile=profile,
                    timezones=zones,
                    quality=r.uniform(0.8, 1.2),
                    cadence_per_day=COMPETITOR_CADENCE.get(platform, 1.0) * r.uniform(0.5, 1.5),
                    profile={"name": name, "products": products},
                    refresh_token="",
                    created_at=start,
                )
            )
    return rows


class SandboxWorld:
    """One persisted simulated network; cheap to construct, every method reads the database."""

    def __init__(self, engine: Engine, world_id: str) -> None:
        self.engine = engine
        self.id = world_id
        self.clock = SandboxClock(engine, world_id)
        with Session(engine) as session:
            row = session.get(SandboxWorldRow, world_id)
        if row is None:
            raise LookupError(f"sandbox world {world_id!r} does not exist")
        self.seed = row.seed
        self.brand = SandboxBrand.model_validate(row.brand)

    @classmethod
    def create(
        cls,
        engine: Engine,
        *,
        seed: int | str,
        brand: SandboxBrand | str | Mapping[str, Any] = "Acme",
        platforms: Sequence[str] = ("x", "linkedin", "instagram"),
        world_id: str | None = None,
        start: datetime | None = None,
        speed: float = 0.0,
        competitors: int = 3,
        faults: FaultPlan | None = None,
        token_ttl: timedelta | None = None,
        quotas: Mapping[str, int] | None = None,
    ) -> SandboxWorld:
        """Create (or, for the same id and seed, load) a world; its id defaults to one derived from the seed.

        `start` is the sandbox time the clock starts at (default: now, whole seconds); `speed` 0 keeps
        the clock manual, 1 runs it in real time.
        """
        seed_s = str(seed)
        world_id = world_id or f"sbx-{digest(seed_s, 'world', size=12)}"
        with Session(engine) as session:
            existing = session.get(SandboxWorldRow, world_id)
        if existing is not None:
            return cls._existing(engine, existing, seed_s)
        if isinstance(brand, str):
            brand = SandboxBrand(name=brand)
        elif not isinstance(brand, SandboxBrand):
            brand = SandboxBrand.model_validate(dict(brand))
        unknown = [p for p in platforms if p not in TYPICAL_AUDIENCE]
        if unknown or not platforms or len(set(platforms)) != len(platforms):
            raise ValueError(f"platforms must be distinct names from {sorted(TYPICAL_AUDIENCE)}: {platforms}")
        start = to_utc(start or utcnow().replace(microsecond=0))
        resolved = _resolve_brand(seed_s, brand)
        world = SandboxWorldRow(
            id=world_id,
            seed=seed_s,
            brand=resolved,
            clock_base=start,
            clock_anchor=utcnow(),
            clock_speed=speed,
            started_at=start,
            faults=(faults or FaultPlan()).model_dump(mode="json"),
            quotas=dict(quotas or {}),
            token_ttl_s=int(token_ttl.total_seconds()) if token_ttl else None,
        )
        accounts = _generate(seed_s, world_id, brand, resolved, platforms, competitors, start)
        try:
            with write_transaction(engine) as conn, Session(bind=conn) as session:
                session.add(world)
                session.add_all(accounts)
                session.flush()
                for acct in accounts:
                    if acct.kind == "own":
                        _state.issue_token(session, world, acct, start)
                session.flush()
        except IntegrityError:
            # Another process created it first.
            with Session(engine) as session:
                existing = session.get(SandboxWorldRow, world_id)
            if existing is None:
                raise
            return cls._existing(engine, existing, seed_s)
        return cls(engine, world_id)

    @classmethod
    def _existing(cls, engine: Engine, row: SandboxWorldRow, seed: str) -> SandboxWorld:
        if row.seed != seed:
            raise ValueError(f"sandbox world {row.id!r} exists with another seed ({row.seed!r})")
        return cls(engine, row.id)

    @classmethod
    def load(cls, engine: Engine, world_id: str) -> SandboxWorld:
        """The stored world `world_id` (LookupError when it does not exist)."""
        return cls(engine, world_id)

    # --- clock ------------------------------------------------------------------------------------

    def now(self) -> datetime:
        """Current sandbox time."""
        return self.clock.now()

    def advance(self, delta: timedelta) -> datetime:
        """Move the sandbox clock forward; returns the new time."""
        return self.clock.advance(delta)

    # --- accounts ---------------------------------------------------------------------------------

    def accounts(self, *, kind: str | None = None, platform: str | None = None) -> list[SandboxAccount]:
        """The world's accounts (own first, then competitors), the brand's with their newest valid token."""
        with Session(self.engine) as session:
            world = self._row(session)
            now = clock_time(world, utcnow())
            query = select(SandboxAccountRow).where(SandboxAccountRow.world_id == self.id)
            if kind:
                query = query.where(SandboxAccountRow.kind == kind)
            if platform:
                query = query.where(SandboxAccountRow.platform == platform)
            rows = session.exec(query).all()
            out = []
            for acct in sorted(rows, key=lambda a: (a.kind != "own", a.platform, a.account_id)):
                token = None
                if acct.kind == "own":
                    token = session.exec(
                        select(SandboxTokenRow)
                        .where(
                            SandboxTokenRow.world_id == self.id,
                            SandboxTokenRow.account_id == acct.account_id,
                            col(SandboxTokenRow.revoked).is_(False),
                        )
                        .order_by(col(SandboxTokenRow.expires_at).desc())
                    ).first()
                    if token is not None and _state.ts(token.expires_at) <= now:
                        token = None
                out.append(
                    SandboxAccount(
                        world_id=self.id,
                        platform=acct.platform,
                        platform_account_id=acct.account_id,
                        username=acct.username,
                        display_name=acct.display_name,
                        kind="own" if acct.kind == "own" else "competitor",
                        audience=acct.audience,
                        audience_profile=acct.audience_profile,
                        timezones=list(acct.timezones),
                        access_token=token.token if token else None,
                        refresh_token=acct.refresh_token or None,
                        token_expiry=_state.ts(token.expires_at) if token else None,
                    )
                )
            return out

    def own_accounts(self) -> list[SandboxAccount]:
        """The brand's accounts, one per platform: what to connect as SocialAccounts."""
        return self.accounts(kind="own")

    def own_account(self, platform: str) -> SandboxAccount:
        """The brand's account on `platform`."""
        found = self.accounts(kind="own", platform=platform)
        if not found:
            raise LookupError(f"world {self.id!r} has no {platform} account")
        return found[0]

    def competitors(self, platform: str | None = None) -> list[SandboxAccount]:
        """Competitor accounts, optionally on one platform."""
        return self.accounts(kind="competitor", platform=platform)

    def revoke_tokens(self, platform_account_id: str) -> None:
        """Revoke every access token of an account (its next call fails with AuthExpired)."""
        with write_transaction(self.engine) as conn, Session(bind=conn) as session:
            for token in session.exec(
                select(SandboxTokenRow).where(
                    SandboxTokenRow.world_id == self.id, SandboxTokenRow.account_id == platform_account_id
                )
            ):
                token.revoked = True
                session.add(token)
            session.flush()

    # --- knobs ------------------------------------------------------------------------------------

    @property
    def faults(self) -> FaultPlan:
        """The world's fault plan."""
        with Session(self.engine) as session:
            return FaultPlan.model_validate(self._row(session).faults)

    def set_faults(self, plan: FaultPlan) -> None:
        """Replace the world's fault plan (takes effect on the next call, in every process)."""
        self._update(faults=plan.model_dump(mode="json"))

    def set_quota(self, platform: str, per_day: int | None) -> None:
        """Override a platform's daily publish quota in this world (None restores the documented one)."""
        with Session(self.engine) as session:
            quotas = dict(self._row(session).quotas)
        if per_day is None:
            quotas.pop(platform, None)
        else:
            quotas[platform] = per_day
        self._update(quotas=quotas)

    def _update(self, **values: Any) -> None:
        with write_transaction(self.engine) as conn, Session(bind=conn) as session:
            row = self._row(session)
            for key, value in values.items():
                setattr(row, key, value)
            session.add(row)
            session.flush()

    def _row(self, session: Session) -> SandboxWorldRow:
        row = session.get(SandboxWorldRow, self.id)
        if row is None:
            raise LookupError(f"sandbox world {self.id!r} does not exist")
        return row

    # --- crises -----------------------------------------------------------------------------------

    def schedule_crisis(
        self,
        start: datetime,
        duration: timedelta,
        intensity: float = 5.0,
        topic: str | None = None,
        platforms: Sequence[str] = (),
    ) -> SandboxCrisis:
        """Script a burst of negative mentions (`intensity` x normal volume at its height) in a window."""
        if duration <= timedelta(0) or intensity <= 0:
            raise ValueError("a crisis needs a positive duration and intensity")
        start = to_utc(start)
        if topic is None:
            topic = rng(self.seed, "crisis-topic", start.isoformat()).choice(_text.CRISIS_TOPICS)
        crisis_id = digest(
            self.seed, self.id, start.isoformat(), duration, intensity, topic, *platforms, size=16
        )
        with write_transaction(self.engine) as conn, Session(bind=conn) as session:
            if session.get(SandboxCrisisRow, crisis_id) is None:
                session.add(
                    SandboxCrisisRow(
                        id=crisis_id,
                        world_id=self.id,
                        starts_at=start,
                        ends_at=start + duration,
                        intensity=intensity,
                        topic=topic,
                        platforms=list(platforms),
                    )
                )
                session.flush()
        return SandboxCrisis(
            id=crisis_id,
            starts_at=start,
            ends_at=start + duration,
            intensity=intensity,
            topic=topic,
            platforms=tuple(platforms),
        )

    def crises(self) -> list[SandboxCrisis]:
        """Scripted crises, in start order."""
        with Session(self.engine) as session:
            return _state.load_crises(session, self.id)

    # --- inspection -------------------------------------------------------------------------------

    def posts(
        self, platform_account_id: str | None = None, *, include_deleted: bool = False
    ) -> list[RemotePost]:
        """Posts published in the world (thread parts included), oldest first."""
        with Session(self.engine) as session:
            query = select(SandboxPostRow).where(SandboxPostRow.world_id == self.id)
            if platform_account_id:
                query = query.where(SandboxPostRow.account_id == platform_account_id)
            if not include_deleted:
                query = query.where(col(SandboxPostRow.deleted_at).is_(None))
            rows = session.exec(query.order_by(col(SandboxPostRow.created_at), col(SandboxPostRow.remote_id)))
            return [
                RemotePost(remote_id=p.remote_id, text=p.text, created_at=_state.ts(p.created_at), url=p.url)
                for p in rows
            ]

    def calls(self, operation: str | None = None) -> list[SandboxCall]:
        """The call log: every write (and faulted read) with its attempt number and outcome."""
        with Session(self.engine) as session:
            query = select(SandboxCallRow).where(SandboxCallRow.world_id == self.id)
            if operation:
                query = query.where(SandboxCallRow.operation == operation)
            rows = session.exec(query.order_by(col(SandboxCallRow.at), col(SandboxCallRow.attempt))).all()
            return [
                SandboxCall(
                    operation=c.operation,
                    call_key=c.call_key,
                    attempt=c.attempt,
                    account_id=c.account_id,
                    outcome=c.outcome,
                    remote_id=c.remote_id,
                    at=_state.ts(c.at),
                )
                for c in rows
            ]

    def competitor_posts(
        self, platform: str, since: datetime, until: datetime | None = None
    ) -> list[GeneratedPost]:
        """Competitors' public posts on `platform` in (since, until] (until: now, at the latest)."""
        with Session(self.engine) as session:
            world = self._row(session)
            now = clock_time(world, utcnow())
            rows = session.exec(
                select(SandboxAccountRow).where(
                    SandboxAccountRow.world_id == self.id,
                    SandboxAccountRow.platform == platform,
                    SandboxAccountRow.kind == "competitor",
                )
            ).all()
            end = min(to_utc(until), now) if until else now
            out: list[GeneratedPost] = []
            for acct in rows:
                out += competitor_posts(_state.stream_account(world, acct), since=to_utc(since), until=end)
            return sorted(out, key=lambda p: (p.created_at, p.remote_id))

    def connector(self, platform: str | None = None) -> SandboxConnector:
        """A connector acting in this world, for one platform or (None) for all of them."""
        from brandcrew.connectors.sandbox.connector import SandboxConnector

        return SandboxConnector(self.engine, world_id=self.id, platform=platform)
