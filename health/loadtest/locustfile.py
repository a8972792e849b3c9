"""The Locust users of `manage.py loadtest` and `manage.py bench_dashboard`, run headless in a
process of their own by health.loadtest.locust. The plan (a JSON file named by AHA_LOAD_PLAN)
says which mode, which sellers (ready-made sessions) and, for the benchmark, which view each
phase requests; what the server accepted is written back to the plan's outcomes file.

- loadtest: each user is one seller, one request at a time with no pause: mostly its dashboard,
  sometimes "Call me now" (then the status panel, and sometimes a cancel), sometimes the
  acknowledgement of its AHA case.
- bench: each user requests one URL again as soon as the answer is in; the phases (warm-up,
  trivial view, cached dashboard, dashboard on a cache miss) take turns by the clock."""

from __future__ import annotations

import json
import os
import random
import time
from http.cookiejar import Cookie
from itertools import count
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant, events, task

from health.loadtest.outcomes import CANCEL_URL, CREATED, Outcomes

PLAN: dict[str, Any] = json.loads(Path(os.environ["AHA_LOAD_PLAN"]).read_text())
OUTCOMES = Outcomes()
USER_NUMBERS = count()
STARTED = {"at": 0.0}

# The share of each action in a seller's loop; the rest opens the dashboard.
CALLBACK_SHARE = 0.10
ACKNOWLEDGE_SHARE = 0.05
CANCEL_SHARE = 0.5
HTMX = {"HX-Request": "true"}


@events.test_start.add_listener
def _started(**_: Any) -> None:
    STARTED["at"] = time.monotonic()
    # Marks for the parent, which measures CPU use between them (not Locust's start-up).
    Path(PLAN["marks"], "started").touch()


@events.test_stop.add_listener
def _stopped(**_: Any) -> None:
    Path(PLAN["marks"], "stopped").touch()


@events.quitting.add_listener
def _save_outcomes(**_: Any) -> None:
    OUTCOMES.save(Path(PLAN["outcomes"]))


def cookie_header(seller: dict[str, Any]) -> str:
    return f"sessionid={seller['session_key']}; csrftoken={seller['csrf_token']}"


def _cookie(name: str, value: str, host: str) -> Cookie:
    return Cookie(
        0, name, value, None, False, host, False, False, "/", True, False, None, False, None,
        None, {},
    )  # fmt: skip


class Seller(FastHttpUser):
    """One simulated seller of the load test (mode "loadtest")."""

    wait_time = constant(0)
    weight = 1 if PLAN["mode"] == "loadtest" else 0

    def on_start(self) -> None:
        number = next(USER_NUMBERS)
        self.seller = PLAN["sellers"][number % len(PLAN["sellers"])]
        self.rng = random.Random(number)
        self.store = f"/stores/{self.seller['store_account_id']}"
        self.csrf = {"X-CSRFToken": self.seller["csrf_token"]}
        host = PLAN["host"]
        # The server may set cookies (a flash message after a redirect): the jar keeps them.
        self.client.cookiejar.set_cookie(_cookie("sessionid", self.seller["session_key"], host))
        self.client.cookiejar.set_cookie(_cookie("csrftoken", self.seller["csrf_token"], host))

    @task
    def act(self) -> None:
        roll = self.rng.random()
        if roll < CALLBACK_SHARE:
            self.call_me_now()
        elif roll < CALLBACK_SHARE + ACKNOWLEDGE_SHARE:
            self.acknowledge()
        else:
            self.get(f"{self.store}/", name="dashboard")

    def get(self, path: str, *, name: str, expect: tuple[int, ...] = (200,), **kw: Any) -> Any:
        with self.client.get(path, name=name, catch_response=True, **kw) as answer:
            return _judge(answer, expect)

    def post(self, path: str, data: dict[str, str], *, name: str, expect: tuple[int, ...], **kw):
        with self.client.post(path, data=data, name=name, catch_response=True, **kw) as answer:
            return _judge(answer, expect)

    def call_me_now(self) -> None:
        form = {"phone": "", "topic": "Load test"}
        headers = {**HTMX, **self.csrf}
        answer = self.post(
            f"{self.store}/callback/", form, name="call me now", expect=(200,), headers=headers
        )
        if answer is None:
            return
        body = answer.content or b""
        shown = CANCEL_URL.search(body)
        if CREATED in body and shown:
            OUTCOMES.created[self.seller["seller_id"]].add(int(shown.group(1)))
        elif shown:
            OUTCOMES.already_open += 1
        else:
            OUTCOMES.refused += 1  # a limit of rules §6, answered with its message
        self.get(
            f"{self.store}/callback/status/", name="callback status", expect=(200, 204),
            headers=HTMX,
        )  # fmt: skip
        if shown and self.rng.random() < CANCEL_SHARE:
            self.cancel(int(shown.group(1)))

    def cancel(self, callback_id: int) -> None:
        url = f"{self.store}/callback/{callback_id}/cancel/"
        headers = {**HTMX, **self.csrf}
        answer = self.post(url, {}, name="cancel callback", expect=(200,), headers=headers)
        if answer is not None and CREATED in (answer.content or b""):
            OUTCOMES.cancelled[self.seller["seller_id"]].add(callback_id)

    def acknowledge(self) -> None:
        url = f"{self.store}/cases/{self.seller['case_id']}/acknowledge/"
        answer = self.post(
            url, {}, name="acknowledge case", expect=(302,), headers=self.csrf,
            allow_redirects=False,
        )  # fmt: skip
        if answer is None:
            return
        # Without htmx the answer is a redirect to the dashboard, which the browser follows.
        OUTCOMES.acknowledged.add(self.seller["case_id"])
        location = answer.headers.get("location", f"{self.store}/").split("#")[0]
        self.get(location, name="dashboard")


class Client(FastHttpUser):
    """One client of the dashboard benchmark (mode "bench"): its phase says what it requests."""

    wait_time = constant(0)
    weight = 1 if PLAN["mode"] == "bench" else 0

    def on_start(self) -> None:
        self.number = next(USER_NUMBERS)
        self.seller = PLAN["sellers"][self.number % len(PLAN["sellers"])]
        clients = PLAN["clients"]
        # Each client's own share of the cold pages, each requested once.
        self.cold = iter(PLAN["cold_sellers"][self.number :: clients])

    @task
    def request(self) -> None:
        phase = current_phase()
        if phase is None:  # the last phase is over; Locust stops the run in a moment
            time.sleep(0.05)
            return
        name, view = phase
        seller = self.seller
        if view == "trivial":
            path = PLAN["trivial"]
        elif view == "dashboard":
            path = f"/stores/{seller['store_account_id']}/"
        else:
            seller = next(self.cold, None)
            if seller is None:  # every cold page of this client seen: a repeat is a cache hit
                seller, name = self.seller, "cold pages used up"
            path = f"/stores/{seller['store_account_id']}/"
        with self.client.get(
            path, name=name, catch_response=True, headers={"Cookie": cookie_header(seller)}
        ) as answer:
            _judge(answer, (200,))


def current_phase() -> tuple[str, str] | None:
    """(request name, view) of the phase the clock is in, or None after the last one."""
    elapsed = time.monotonic() - STARTED["at"]
    for name, view, start, end in PLAN["phases"]:
        if start <= elapsed < end:
            return name, view
    return None


def _judge(answer: Any, expect: tuple[int, ...]) -> Any:
    if answer.status_code in expect:
        answer.success()
        return answer
    answer.failure(f"status {answer.status_code}, expected {'/'.join(map(str, expect))}")
    return None
