"""The LLM runtime: route, check the cache, reserve budget, call, settle, record — for every request.

On the SQL budget store the runtime reserves through budget leases (`brandcrew.llm.leases`): a call
that skips the response cache routes, carves its reservation, settles and queues its ledger row in
memory, on the event loop, with no worker thread; taking a lease, a response-cache lookup or write
(the cache is on by default, so most agent calls still make one hop), and the stores without leases
(Redis) go to a worker thread. `flush()` commits what is queued.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy import Engine

from brandcrew.errors import ModelAPIError, NoModelAvailable, OutputValidationError
from brandcrew.llm._cost import cost_of, from_nanos, to_nanos
from brandcrew.llm._retry import with_retries
from brandcrew.llm.backend import ModelBackend
from brandcrew.llm.budgets import BudgetScope, BudgetStatus, BudgetStore, Reservation, SqlBudgetStore
from brandcrew.llm.cache import CachedResponse, ResponseCache, SqlResponseCache, cache_key
from brandcrew.llm.config import ModelsConfig, load_models_config
from brandcrew.llm.context import LlmContext, current_context
from brandcrew.llm.leases import LeasedBudgets
from brandcrew.llm.ledger import CostLedger
from brandcrew.llm.limits import BudgetLimits
from brandcrew.llm.messages import ModelRequest, ModelResponse, ResponseChunk, ToolCall, parse_tool_arguments
from brandcrew.llm.prices import ModelPrice, PriceTable
from brandcrew.llm.router import Candidate, ModelRouter, RouteDecision, RouteRequest
from brandcrew.llm.tokens import count_message_tokens
from brandcrew.llm.usage import LlmUsage
from brandcrew.settings import Settings, get_settings
from brandcrew.store.tables import new_id, utcnow

log = logging.getLogger("brandcrew.llm")
_NO_PRICES = {"price_input": None, "price_output": None, "price_cache_read": None, "price_cache_write": None}
T = TypeVar("T")


def _in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> asyncio.Future[T]:
    """`asyncio.to_thread` without its coroutine and task: the executor's future itself."""
    run = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
    return asyncio.get_running_loop().run_in_executor(None, run)


async def _off_loop(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run blocking store I/O in a worker thread, and finish it even if the caller is cancelled.

    A reservation or settlement that was sent must not be lost half-way: on cancellation we wait
    for the thread to finish before letting the cancellation through.
    """
    future = _in_thread(fn, *args, **kwargs)
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        await asyncio.wait([future])
        raise


@dataclass(kw_only=True)
class CallOptions:
    """Per-request knobs (the LangChain model passes its fields and call kwargs through these)."""

    max_output_tokens: int | None = None
    cache: bool = True
    """False bypasses the response cache for this request (no read, no write)."""
    model: str | None = None
    """Pin a concrete model, skipping tier selection (budgets and pricing still apply)."""
    validate: Callable[[ModelResponse], bool] | None = None
    """Output check for cascades: a cheap model's answer that fails it escalates."""


@dataclass
class CallResult:
    """A model answer with what it cost and how it was chosen."""

    response: ModelResponse
    decision: RouteDecision
    cost_usd: Decimal | None
    """None when unpriced (never a fake zero); 0 for cache hits and the offline model."""
    saved_usd: Decimal = Decimal(0)
    cache_hit: bool = False
    ledger_id: str | None = None
    attempts: list[str] = field(default_factory=list)


@dataclass
class _Prepared:
    """A request made ready for its model: the cache key, and a cache hit or the budget reserved."""

    started: float
    key: str | None
    hit: CallResult | None = None
    reservation: Reservation | None = None


def _tightest(scopes: list[BudgetScope], store: BudgetStore) -> tuple[int | None, int | None]:
    if not scopes:
        return None, None
    # Leases route on the figures they last read (`status` would return every lease first).
    status = store.routing_status if isinstance(store, LeasedBudgets) else store.status
    return _tightest_of(scopes, status([s.key for s in scopes]))


def _tightest_of(scopes: list[BudgetScope], statuses: list[BudgetStatus]) -> tuple[int | None, int | None]:
    if not scopes:
        return None, None
    status = {s.key: s for s in statuses}
    best: tuple[int, int] | None = None
    for scope in scopes:
        st = status.get(scope.key)
        remaining = scope.limit_nanos - (st.spent_nanos + st.reserved_nanos if st else 0)
        if best is None or remaining < best[0]:
            best = (max(0, remaining), scope.limit_nanos)
    assert best is not None
    return best


class LlmRuntime:
    """Everything a model call goes through. One per process, shared by all agents."""

    def __init__(
        self,
        *,
        config: ModelsConfig,
        engine: Engine,
        prices: PriceTable | None = None,
        router: ModelRouter | None = None,
        budgets: BudgetStore | None = None,
        cache: ResponseCache | None = None,
        backends: dict[str, ModelBackend] | None = None,
        settings: Settings | None = None,
        sleep: Callable[[float], Any] | None = None,
    ) -> None:
        from brandcrew.llm.provider import LiteLLMBackend

        self.settings = settings or get_settings()
        self.config = config
        self.engine = engine
        self.prices = prices or PriceTable(config.price_overrides())
        self.router = router or ModelRouter(config, self.prices, offline=self.settings.offline)
        store: BudgetStore = budgets or SqlBudgetStore(engine)
        self._leases: LeasedBudgets | None = None
        if isinstance(store, SqlBudgetStore) and self.settings.budget_leases:
            store = self._leases = LeasedBudgets(store, ttl_s=self.settings.reservation_ttl_s)
        self.budgets: BudgetStore = store
        self.limits = BudgetLimits(engine)
        self.ledger = CostLedger(engine)
        self.cache = cache if cache is not None else SqlResponseCache(engine)
        self.backends: dict[str, ModelBackend] = dict(backends or {})
        self.default_backend: ModelBackend = LiteLLMBackend(
            deployments=config.deployments,
            provider_of=self.router.provider_of,
            allow_requests=self.settings.allow_model_requests,
        )
        self._sleep = sleep
        self._record: Callable[[dict[str, Any]], Any] = (
            self.ledger.record if self._leases is None else self._leases.record
        )

    def flush(self) -> None:
        """Commit the ledger rows and settlements still queued in memory (blocking)."""
        if self._leases is not None:
            self._leases.flush()

    def close(self) -> None:
        """Commit what is queued and return unused budget leases (the runtime stays usable)."""
        if self._leases is not None:
            self._leases.close()

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **kwargs: Any) -> LlmRuntime:
        """A runtime on the configured database, models.yaml, and Redis when REDIS_URL is set."""
        from brandcrew.store.engine import get_engine

        settings = settings or get_settings()
        engine = kwargs.pop("engine", None) or get_engine(settings)
        config = kwargs.pop("config", None) or load_models_config(settings.configs_dir / "models.yaml")
        if settings.redis_url and "budgets" not in kwargs:
            import redis

            from brandcrew.llm.budgets import RedisBudgetStore
            from brandcrew.llm.cache import RedisResponseCache

            client = redis.Redis.from_url(settings.redis_url)
            kwargs["budgets"] = RedisBudgetStore(client, ledger=CostLedger(engine))
            kwargs.setdefault("cache", RedisResponseCache(client))
        return cls(config=config, engine=engine, settings=settings, **kwargs)

    def backend_for(self, provider: str) -> ModelBackend:
        """The backend that serves `provider` (LiteLLM unless one was registered)."""
        backend = self.backends.get(provider)
        if backend is None and provider == "offline":
            from brandcrew.llm.offline import OfflineBackend

            backend = self.backends.setdefault("offline", OfflineBackend())
        return backend or self.default_backend

    # -- routing ---------------------------------------------------------------------------
    def route(
        self, request: ModelRequest, ctx: LlmContext, opts: CallOptions
    ) -> tuple[RouteDecision, list[BudgetScope]]:
        """The routing decision for a request and the budget scopes it must fit under (blocking I/O)."""
        scopes = self.limits.scopes_for(ctx)
        return self._decide(request, ctx, opts, scopes, _tightest(scopes, self.budgets)), scopes

    def _decide(
        self,
        request: ModelRequest,
        ctx: LlmContext,
        opts: CallOptions,
        scopes: list[BudgetScope],
        tightest: tuple[int | None, int | None],
    ) -> RouteDecision:
        remaining, limit = tightest
        prompt_tokens = count_message_tokens(request.messages, tools=request.tools)
        if opts.model is not None:
            return self._pinned(opts.model, prompt_tokens, request.max_tokens, ctx)
        # Built without validation: every field comes from validated models or is computed here.
        return self.router.decide(
            RouteRequest.model_construct(
                agent=ctx.agent,
                step=ctx.step,
                tier=ctx.tier,
                prompt_tokens=prompt_tokens,
                max_output_tokens=request.max_tokens,
                needs_tools=bool(request.tools),
                needs_schema=request.response_format is not None,
                budget_remaining_nanos=remaining,
                budget_limit_nanos=limit,
            )
        )

    def _pinned(self, model: str, prompt_tokens: int, max_tokens: int, ctx: LlmContext) -> RouteDecision:
        provider = "offline" if model == "offline" else self.router.provider_of(model)
        worst = self.router.worst_case_nanos(model, prompt_tokens, max_tokens)
        tier = ctx.tier or self.config.agents.get(ctx.agent or "", self.config.default_tier)
        return RouteDecision(
            chosen=Candidate(model=model, provider=provider, tier=tier, worst_case_nanos=worst),
            tier=tier,
            reason=f"pinned model {model}",
        )

    # -- the call --------------------------------------------------------------------------
    async def complete(
        self, request: ModelRequest, *, ctx: LlmContext | None = None, opts: CallOptions | None = None
    ) -> CallResult:
        """Route `request` (its `model` is replaced), then answer it under budget, cache and ledger."""
        ctx = ctx or current_context()
        opts = opts or CallOptions()
        if opts.max_output_tokens is not None:
            request = request.model_copy(update={"max_tokens": opts.max_output_tokens})
        ready = self._prepare_now(request, ctx, opts)
        if ready is None:
            # Routing, the cache lookup and the reservation of the first candidate share one worker thread.
            ready = await self._off_loop_reserving(self._route_and_prepare, request, ctx, opts)
        decision, scopes, first = ready
        plan = [*decision.cascade, decision.chosen, *decision.fallbacks]
        attempts: list[str] = []
        last_error: Exception | None = None
        for index, candidate in enumerate(plan):
            is_cascade_step = index < len(decision.cascade)
            attempts.append(candidate.model)
            concrete = request.model_copy(update={"model": candidate.model})
            try:
                result = await self._attempt(
                    concrete, candidate, decision, scopes, ctx, opts, first if index == 0 else None
                )
            except ModelAPIError as exc:
                last_error = exc
                log.warning("model %s failed (%s); falling back", candidate.model, exc)
                continue
            result.attempts = attempts
            if is_cascade_step and opts.validate is not None and not opts.validate(result.response):
                log.info("cascade: %s output failed validation; escalating", candidate.model)
                continue
            if opts.validate is not None and not is_cascade_step and not opts.validate(result.response):
                raise OutputValidationError(f"{candidate.model} output failed validation after escalation")
            return result
        raise NoModelAvailable(
            f"every candidate failed: {attempts}; last error: {last_error}"
        ) from last_error

    def _ledger_row(
        self,
        *,
        ctx: LlmContext,
        response: ModelResponse,
        price: ModelPrice | None,
        cost_nanos: int | None,
        decision: RouteDecision,
        latency_ms: float,
        saved_nanos: int = 0,
        cache_hit: bool = False,
        reservation: Reservation | None = None,
        status: str = "ok",
        error: str | None = None,
    ) -> dict[str, Any]:
        """Every column of the call's `llm_calls` row (a dict: building the table model costs more)."""
        usage = response.usage
        return dict(
            id=new_id(),
            created_at=utcnow(),
            workspace_id=ctx.workspace_id,
            campaign_id=ctx.campaign_id,
            run_id=ctx.run_id,
            agent=ctx.agent,
            step=ctx.step,
            model=response.model,
            provider=response.provider,
            input_tokens=usage.input_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            output_tokens=usage.output_tokens,
            reasoning_tokens=usage.reasoning_tokens,
            **(price.ledger_prices if price else _NO_PRICES),
            cost_nanousd=cost_nanos,
            saved_nanousd=saved_nanos,
            cache_hit=cache_hit,
            offline=response.offline,
            latency_ms=latency_ms,
            status=status,
            error=error,
            route_reason=decision.reason,
            reservation_id=reservation.id if reservation else None,
        )

    def _cache_hit(
        self, hit: CachedResponse, ctx: LlmContext, decision: RouteDecision, started: float
    ) -> CallResult:
        price = self.prices.get(hit.response.model)
        # Nothing was consumed: a hit's row carries no tokens, only what it saved (cf. LiteLLM #39057).
        served = hit.response.model_copy(update={"usage": LlmUsage()})
        row = self._ledger_row(
            ctx=ctx,
            response=served,
            price=price,
            cost_nanos=0,
            decision=decision,
            latency_ms=(time.perf_counter() - started) * 1000,
            saved_nanos=hit.cost_nanos or 0,
            cache_hit=True,
        )
        self._record(row)
        return CallResult(
            response=served,
            decision=decision,
            cost_usd=Decimal(0),
            saved_usd=from_nanos(hit.cost_nanos or 0),
            cache_hit=True,
            ledger_id=row["id"],
        )

    async def _attempt(
        self,
        request: ModelRequest,
        candidate: Candidate,
        decision: RouteDecision,
        scopes: list[BudgetScope],
        ctx: LlmContext,
        opts: CallOptions,
        prepared: _Prepared | None = None,
    ) -> CallResult:
        if prepared is None:
            prepared = await self._off_loop_reserving(
                self._prepare, request, candidate, decision, scopes, ctx, opts
            )
        if prepared.hit is not None:
            return prepared.hit
        started, key, reservation = prepared.started, prepared.key, prepared.reservation
        price = self.prices.get(candidate.model)
        backend = self.backend_for(candidate.provider)
        self.router.health.begin_trial(candidate.provider)
        try:
            response = await with_retries(
                lambda: backend.complete(request),
                attempts=self.config.router.max_attempts,
                max_wait_s=self.config.router.max_retry_wait_s,
                sleep=self._sleep,
            )
        except ModelAPIError as exc:
            self.router.health.record_failure(candidate.provider)
            await self._release(reservation)
            await self._store(self._record_failure, request, candidate, decision, ctx, exc, started)
            raise
        except BaseException:
            await self._release(reservation)
            raise
        self.router.health.record_success(candidate.provider)
        return await self._store(
            self._finish, response, price, reservation, decision, ctx, key, started, cached=key is not None
        )

    async def _store(self, fn: Callable[..., T], *args: Any, cached: bool = False) -> T:
        """Run a bookkeeping step: on the loop when it only touches memory, else in a worker thread.

        With budget leases, settling, releasing and queueing ledger rows happen in memory (a writer
        thread commits them behind); a response-cache write, or any step without leases, is database
        I/O and goes to a thread that finishes even if the caller is cancelled.
        """
        if self._leases is not None and not cached:
            return fn(*args)
        return await _off_loop(fn, *args)

    def _prepare(
        self,
        request: ModelRequest,
        candidate: Candidate,
        decision: RouteDecision,
        scopes: list[BudgetScope],
        ctx: LlmContext,
        opts: CallOptions,
    ) -> _Prepared:
        """Blocking: look the request up in the cache; on a miss, reserve its worst-case cost."""
        started = time.perf_counter()
        key = cache_key(ctx.workspace_id, request) if opts.cache and self.cache is not None else None
        if key is not None and self.cache is not None:
            hit = self.cache.get(key)
            if hit is not None:
                return _Prepared(started, key, hit=self._cache_hit(hit, ctx, decision, started))
        reservation = None
        if scopes and candidate.worst_case_nanos:
            reservation = self.budgets.reserve(
                scopes, candidate.worst_case_nanos, ttl_s=self.settings.reservation_ttl_s
            )
        return _Prepared(started, key, reservation=reservation)

    def _chooser(
        self,
        request: ModelRequest,
        ctx: LlmContext,
        opts: CallOptions,
        scopes: list[BudgetScope],
        streaming: bool,
    ) -> tuple[Callable[[list[BudgetStatus]], int], list[tuple[RouteDecision, float]]]:
        """A `choose` for `reserve_routed`: route on the figures, say what the first candidate needs."""
        chosen: list[tuple[RouteDecision, float]] = []

        def choose(statuses: list[BudgetStatus]) -> int:
            decision = self._decide(request, ctx, opts, scopes, _tightest_of(scopes, statuses))
            first = decision.cascade[0] if decision.cascade and not streaming else decision.chosen
            chosen.append((decision, time.perf_counter()))
            return first.worst_case_nanos or 0

        return choose, chosen

    def _prepare_now(
        self, request: ModelRequest, ctx: LlmContext, opts: CallOptions
    ) -> tuple[RouteDecision, list[BudgetScope], _Prepared] | None:
        """Route and reserve from memory (cached caps, a budget lease); None when that needs the database."""
        if self._leases is None or (opts.cache and self.cache is not None):
            return None
        scopes = self.limits.cached_scopes_for(ctx)
        if scopes is None:
            return None
        if not scopes:
            decision = self._decide(request, ctx, opts, scopes, (None, None))
            return decision, scopes, _Prepared(time.perf_counter(), None)
        choose, chosen = self._chooser(request, ctx, opts, scopes, False)
        done, reservation = self._leases.reserve_local(scopes, choose)
        if not done:
            return None
        decision, started = chosen[-1]
        return decision, scopes, _Prepared(started, None, reservation=reservation)

    def _route_and_prepare(
        self, request: ModelRequest, ctx: LlmContext, opts: CallOptions, streaming: bool = False
    ) -> tuple[RouteDecision, list[BudgetScope], _Prepared]:
        """Blocking: route, then prepare the first candidate (the chosen one when streaming)."""
        scopes = self.limits.scopes_for(ctx)
        reserve_routed = getattr(self.budgets, "reserve_routed", None)
        if scopes and reserve_routed is not None and not (opts.cache and self.cache is not None):
            # No cache to look in between: read the budgets, route and reserve in one transaction.
            choose, chosen = self._chooser(request, ctx, opts, scopes, streaming)
            reservation = reserve_routed(scopes, choose, ttl_s=self.settings.reservation_ttl_s)
            decision, started = chosen[-1]
            return decision, scopes, _Prepared(started, None, reservation=reservation)
        decision = self._decide(request, ctx, opts, scopes, _tightest(scopes, self.budgets))
        first = decision.cascade[0] if decision.cascade and not streaming else decision.chosen
        concrete = request.model_copy(update={"model": first.model})
        return decision, scopes, self._prepare(concrete, first, decision, scopes, ctx, opts)

    async def _off_loop_reserving(self, fn: Callable[..., T], *args: Any) -> T:
        """`_off_loop` for a step that may reserve budget: a cancelled caller gives the reservation back."""
        future = _in_thread(fn, *args)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            await asyncio.wait([future])
            if not future.cancelled() and future.exception() is None:
                result = future.result()
                prepared = result[-1] if isinstance(result, tuple) else result
                if isinstance(prepared, _Prepared) and prepared.reservation is not None:
                    await asyncio.to_thread(self.budgets.release, prepared.reservation)
            raise

    async def _release(self, reservation: Reservation | None) -> None:
        if reservation is not None:
            await self._store(self._leases.release if self._leases else self.budgets.release, reservation)

    def _finish(
        self,
        response: ModelResponse,
        price: ModelPrice | None,
        reservation: Reservation | None,
        decision: RouteDecision,
        ctx: LlmContext,
        key: str | None,
        started: float,
    ) -> CallResult:
        cost = None if price is None else cost_of(response.usage, price)
        if response.offline:
            cost = Decimal(0)
        cost_nanos = None if cost is None else to_nanos(cost)
        row = self._ledger_row(
            ctx=ctx,
            response=response,
            price=price,
            cost_nanos=cost_nanos,
            decision=decision,
            latency_ms=(time.perf_counter() - started) * 1000,
            reservation=reservation,
        )
        if reservation is not None:
            if (cost_nanos or 0) > reservation.amount_nanos:
                # The worst case was not worst: record the truth and say so loudly.
                log.error(
                    "call to %s cost %s nano-USD, above its reservation of %s; check token counting",
                    response.model,
                    cost_nanos,
                    reservation.amount_nanos,
                )
            self.budgets.settle(reservation, cost_nanos or 0, ledger_row=row)
        else:
            self._record(row)
        if key is not None and self.cache is not None:
            self.cache.put(
                key,
                ctx.workspace_id,
                CachedResponse(response=response, cost_nanos=cost_nanos),
                ttl_s=self.settings.cache_ttl_s,
            )
        return CallResult(response=response, decision=decision, cost_usd=cost, ledger_id=row["id"])

    def _record_failure(
        self,
        request: ModelRequest,
        candidate: Candidate,
        decision: RouteDecision,
        ctx: LlmContext,
        exc: ModelAPIError,
        started: float,
    ) -> None:
        failed = ModelResponse(model=candidate.model, provider=candidate.provider)
        row = self._ledger_row(
            ctx=ctx,
            response=failed,
            price=self.prices.get(candidate.model),
            cost_nanos=0,
            decision=decision,
            latency_ms=(time.perf_counter() - started) * 1000,
            status="error",
            error=str(exc)[:2000],
        )
        self._record(row)

    # -- streaming ---------------------------------------------------------------------------
    async def stream(
        self, request: ModelRequest, *, ctx: LlmContext | None = None, opts: CallOptions | None = None
    ) -> AsyncIterator[ResponseChunk | CallResult]:
        """Yield chunks of the answer, then one CallResult; cached answers come as one chunk."""
        ctx = ctx or current_context()
        opts = opts or CallOptions()
        if opts.max_output_tokens is not None:
            request = request.model_copy(update={"max_tokens": opts.max_output_tokens})
        decision, _scopes, prepared = await self._off_loop_reserving(
            self._route_and_prepare, request, ctx, opts, True
        )
        candidate = decision.chosen
        request = request.model_copy(update={"model": candidate.model})
        if prepared.hit is not None:
            yield ResponseChunk(content=prepared.hit.response.content)
            yield prepared.hit
            return
        started, key, reservation = prepared.started, prepared.key, prepared.reservation
        price = self.prices.get(candidate.model)
        backend = self.backend_for(candidate.provider)
        content: list[str] = []
        calls: dict[int, dict[str, Any]] = {}
        final: ResponseChunk | None = None
        try:
            async for chunk in backend.stream(request):
                if chunk.usage is not None:
                    final = chunk
                content.append(chunk.content)
                for delta in chunk.tool_call_deltas:
                    slot = calls.setdefault(
                        int(delta.get("index", 0)), {"id": None, "name": None, "arguments": ""}
                    )
                    slot["id"] = delta.get("id") or slot["id"]
                    slot["name"] = delta.get("name") or slot["name"]
                    slot["arguments"] += delta.get("arguments") or ""
                if chunk.content or chunk.tool_call_deltas:
                    yield chunk
        except ModelAPIError as exc:
            self.router.health.record_failure(candidate.provider)
            await self._release(reservation)
            await self._store(self._record_failure, request, candidate, decision, ctx, exc, started)
            raise
        except BaseException:
            await self._release(reservation)
            raise
        self.router.health.record_success(candidate.provider)
        tool_calls = []
        for slot in calls.values():
            args, bad = parse_tool_arguments(slot["arguments"])
            tool_calls.append(
                ToolCall(id=slot["id"] or "", name=slot["name"] or "", arguments=args, raw_arguments=bad)
            )
        response = ModelResponse(
            model=candidate.model,
            provider=candidate.provider,
            content="".join(content),
            tool_calls=tool_calls,
            finish_reason=final.finish_reason if final else None,
            usage=final.usage if final and final.usage else LlmUsage(requests=1),
            offline=candidate.provider == "offline",
        )
        yield await self._store(
            self._finish, response, price, reservation, decision, ctx, key, started, cached=key is not None
        )


_default_runtime: LlmRuntime | None = None
_default_lock = __import__("threading").Lock()


def get_runtime() -> LlmRuntime:
    """The process-wide runtime built from settings (created on first use)."""
    global _default_runtime
    with _default_lock:
        if _default_runtime is None:
            _default_runtime = LlmRuntime.from_settings()
        return _default_runtime


def set_runtime(runtime: LlmRuntime | None) -> None:
    """Replace the process-wide runtime (tests, or an app that builds its own); the old one is closed."""
    global _default_runtime
    with _default_lock:
        old, _default_runtime = _default_runtime, runtime
    if old is not None and old is not runtime:
        try:
            old.close()
        except Exception:  # its database may be gone (tests); the TTL sweeper is the fallback
            log.exception("closing the replaced LLM runtime failed")
