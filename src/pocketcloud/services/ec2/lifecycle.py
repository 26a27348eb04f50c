"""Instance states and the transitions EC2 allows between them (pure).

API calls move an instance into a transitional state (pending, stopping,
shutting-down); the reconciler completes the move once the host has done it.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum

from pocketcloud.errors import ClientError


class State(StrEnum):
    """EC2 instance states, with their numeric codes."""

    PENDING = "pending"
    RUNNING = "running"
    SHUTTING_DOWN = "shutting-down"
    TERMINATED = "terminated"
    STOPPING = "stopping"
    STOPPED = "stopped"

    @property
    def code(self) -> int:
        return CODES[self]


CODES = {
    State.PENDING: 0,
    State.RUNNING: 16,
    State.SHUTTING_DOWN: 32,
    State.TERMINATED: 48,
    State.STOPPING: 64,
    State.STOPPED: 80,
}
#: states in which the instance's machine should exist on the host
LIVE = frozenset({State.PENDING, State.RUNNING})
#: an API call's move: (instance id, current state) → new state, or IncorrectInstanceState
Transition = Callable[[str, State], State]


def _incorrect(instance_id: str, state: State, verb: str) -> ClientError:
    return ClientError(
        "IncorrectInstanceState",
        f"The instance '{instance_id}' is not in a state from which it can be {verb}.",
    )


def start(instance_id: str, state: State) -> State:
    """StartInstances: stopped → pending; running and pending stay as they are."""
    if state in (State.PENDING, State.RUNNING):
        return state
    if state is State.STOPPED:
        return State.PENDING
    raise _incorrect(instance_id, state, "started")


def stop(instance_id: str, state: State) -> State:
    """StopInstances: pending/running → stopping; stopping and stopped stay."""
    if state in (State.PENDING, State.RUNNING):
        return State.STOPPING
    if state in (State.STOPPING, State.STOPPED):
        return state
    raise _incorrect(instance_id, state, "stopped")


def reboot(instance_id: str, state: State) -> State:
    """RebootInstances: only a running (or pending) instance can reboot."""
    if state in (State.PENDING, State.RUNNING):
        return state
    raise _incorrect(instance_id, state, "rebooted")


def terminate(instance_id: str, state: State) -> State:
    """TerminateInstances: anything not yet terminated → shutting-down."""
    if state in (State.TERMINATED, State.SHUTTING_DOWN):
        return state
    return State.SHUTTING_DOWN


def settled(state: State) -> State:
    """Where the reconciler takes a transitional state once the host has acted."""
    return {
        State.PENDING: State.RUNNING,
        State.STOPPING: State.STOPPED,
        State.SHUTTING_DOWN: State.TERMINATED,
    }.get(state, state)
