"""What one simulated seller does until the deadline: mostly open its dashboard, sometimes press
"Call me now" (then watch the status panel, and sometimes cancel), sometimes acknowledge its AHA
case. What the server answered is kept, so it can be checked against the database afterwards."""

from __future__ import annotations

import asyncio
import random
import re
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from health.loadtest.data import SimulatedSeller
from health.loadtest.http import HttpClient
from health.loadtest.stats import Recorder

# The share of each action in a seller's loop; the rest opens the dashboard.
CALLBACK_SHARE = 0.10
ACKNOWLEDGE_SHARE = 0.05
CANCEL_SHARE = 0.5
PROGRESS_EVERY = 10.0
HTMX = {"HX-Request": "true"}
# How the status panel fragment says what happened (the level class of its notice) and which
# request it shows (the cancel form of the open request carries its id).
CREATED = b"message-success"
CANCEL_URL = re.compile(rb"/callback/(\d+)/cancel/")


@dataclass
class Outcomes:
    """What the server accepted, per seller, as its answers said."""

    created: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    cancelled: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    acknowledged: set[int] = field(default_factory=set)
    refused: int = 0
    already_open: int = 0

    @property
    def accepted(self) -> int:
        created = sum(len(ids) for ids in self.created.values())
        cancelled = sum(len(ids) for ids in self.cancelled.values())
        return created + cancelled + len(self.acknowledged)


@dataclass
class Session:
    seller: SimulatedSeller
    client: HttpClient
    recorder: Recorder
    outcomes: Outcomes

    @property
    def store(self) -> str:
        return f"/stores/{self.seller.store_account_id}"

    async def dashboard(self) -> None:
        await self.recorder.timed("dashboard", self.client.get(f"{self.store}/"), expect=(200,))

    async def call_me_now(self, rng: random.Random) -> None:
        headers = {**HTMX, **self.seller.csrf_headers}
        form = {"phone": "", "topic": "Load test"}
        post = self.client.post(f"{self.store}/callback/", form, headers=headers)
        answer = await self.recorder.timed("call me now", post, expect=(200,))
        if answer is None:
            return
        shown = CANCEL_URL.search(answer.body)
        if CREATED in answer.body and shown:
            self.outcomes.created[self.seller.seller_id].add(int(shown.group(1)))
        elif shown:
            self.outcomes.already_open += 1
        else:
            self.outcomes.refused += 1  # a limit of rules §6, answered with its message
        status = self.client.get(f"{self.store}/callback/status/", headers=HTMX)
        await self.recorder.timed("callback status", status, expect=(200, 204))
        if shown and rng.random() < CANCEL_SHARE:
            await self.cancel(int(shown.group(1)))

    async def cancel(self, callback_id: int) -> None:
        headers = {**HTMX, **self.seller.csrf_headers}
        post = self.client.post(f"{self.store}/callback/{callback_id}/cancel/", {}, headers=headers)
        answer = await self.recorder.timed("cancel callback", post, expect=(200,))
        if answer is not None and CREATED in answer.body:
            self.outcomes.cancelled[self.seller.seller_id].add(callback_id)

    async def acknowledge(self) -> None:
        url = f"{self.store}/cases/{self.seller.case_id}/acknowledge/"
        post = self.client.post(url, {}, headers=self.seller.csrf_headers)
        answer = await self.recorder.timed("acknowledge case", post, expect=(302,))
        if answer is None:
            return
        # Without htmx the answer is a redirect to the dashboard, which the browser follows.
        self.outcomes.acknowledged.add(self.seller.case_id)
        location = answer.header("location").split("#")[0]
        await self.recorder.timed("dashboard", self.client.get(location), expect=(200,))


async def simulate_seller(
    seller: SimulatedSeller,
    *,
    port: int,
    deadline: float,
    recorder: Recorder,
    outcomes: Outcomes,
    seed: int,
) -> None:
    """Act as one seller until the deadline (loop time), one request at a time."""
    rng = random.Random(seed)
    session = Session(seller, HttpClient(port, cookies=seller.cookies), recorder, outcomes)
    loop = asyncio.get_running_loop()
    try:
        while loop.time() < deadline:
            roll = rng.random()
            if roll < CALLBACK_SHARE:
                await session.call_me_now(rng)
            elif roll < CALLBACK_SHARE + ACKNOWLEDGE_SHARE:
                await session.acknowledge()
            else:
                await session.dashboard()
    finally:
        await session.client.close()


async def simulate(
    sellers: list[SimulatedSeller],
    *,
    port: int,
    seconds: float,
    recorder: Recorder,
    progress: Callable[[str], None] | None = None,
) -> Outcomes:
    """All sellers at once for `seconds`; every request is bounded by the client's timeout."""
    outcomes = Outcomes()
    deadline = asyncio.get_running_loop().time() + seconds
    tasks = [
        simulate_seller(
            seller, port=port, deadline=deadline, recorder=recorder, outcomes=outcomes, seed=n
        )
        for n, seller in enumerate(sellers)
    ]
    reporter = asyncio.create_task(_report_progress(recorder, progress)) if progress else None
    try:
        await asyncio.gather(*tasks)
    finally:
        recorder.stop()
        if reporter is not None:
            reporter.cancel()
    return outcomes


async def _report_progress(recorder: Recorder, progress: Callable[[str], None]) -> None:
    while True:
        await asyncio.sleep(PROGRESS_EVERY)
        progress(
            f"  {recorder.seconds:5.0f} s: {recorder.requests:,} requests,"
            f" {recorder.rate():,.0f}/s, {recorder.error_count} errors"
        )
