"""What the server accepted during a load test, as its answers said: written by the Locust
process, read back here to be checked against the database. No Django: Locust imports it."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

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

    def save(self, path: Path) -> None:
        data = {
            "created": {str(k): sorted(v) for k, v in self.created.items()},
            "cancelled": {str(k): sorted(v) for k, v in self.cancelled.items()},
            "acknowledged": sorted(self.acknowledged),
            "refused": self.refused,
            "already_open": self.already_open,
        }
        path.write_text(json.dumps(data))

    @classmethod
    def load(cls, path: Path) -> Outcomes:
        data = json.loads(path.read_text())
        outcomes = cls(refused=data["refused"], already_open=data["already_open"])
        for name in ("created", "cancelled"):
            for seller_id, ids in data[name].items():
                getattr(outcomes, name)[int(seller_id)].update(ids)
        outcomes.acknowledged.update(data["acknowledged"])
        return outcomes
