"""The context a wire handler receives for one request."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pocketcloud.services.context import Cloud
from pocketcloud.services.iam.principals import Principal

Params = dict[str, Any]
Result = dict[str, Any]


@dataclass(frozen=True)
class Call:
    """One authenticated API call."""

    cloud: Cloud
    principal: Principal
    service: str
    operation: str
    request_id: str
    source_ip: str
    region: str


Handler = Callable[[Call, Params], Result]


class Registry:
    """Handlers of one service, by operation name."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.handlers: dict[str, Handler] = {}
        #: the filter names each Describe operation accepts (for the operations table)
        self.filters: dict[str, tuple[str, ...]] = {}

    def op(self, name: str, *, filters: Sequence[str] = ()) -> Callable[[Handler], Handler]:
        """Register the decorated function as the handler of ``name`` (a Describe
        operation also names the filters it accepts, tag filters aside)."""

        def register(func: Handler) -> Handler:
            self.handlers[name] = func
            if filters:
                self.filters[name] = tuple(filters)
            return func

        return register
