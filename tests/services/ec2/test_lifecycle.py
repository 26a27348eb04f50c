"""Instance state transitions and instance types (pure)."""

from __future__ import annotations

import pytest

from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.services.ec2 import instance_types, lifecycle
from pocketcloud.services.ec2.lifecycle import State

IID = "i-0123456789abcdef0"


class TestTransitions:
    @pytest.mark.parametrize(
        ("move", "before", "after"),
        [
            (lifecycle.start, State.STOPPED, State.PENDING),
            (lifecycle.start, State.RUNNING, State.RUNNING),
            (lifecycle.stop, State.RUNNING, State.STOPPING),
            (lifecycle.stop, State.PENDING, State.STOPPING),
            (lifecycle.stop, State.STOPPED, State.STOPPED),
            (lifecycle.terminate, State.RUNNING, State.SHUTTING_DOWN),
            (lifecycle.terminate, State.STOPPED, State.SHUTTING_DOWN),
            (lifecycle.terminate, State.TERMINATED, State.TERMINATED),
            (lifecycle.reboot, State.RUNNING, State.RUNNING),
        ],
    )
    def test_allowed(self, move: lifecycle.Transition, before: State, after: State) -> None:
        """Each call moves an instance as EC2 does."""
        assert move(IID, before) is after

    @pytest.mark.parametrize(
        ("move", "state"),
        [
            (lifecycle.start, State.TERMINATED),
            (lifecycle.start, State.STOPPING),
            (lifecycle.start, State.SHUTTING_DOWN),
            (lifecycle.stop, State.TERMINATED),
            (lifecycle.stop, State.SHUTTING_DOWN),
            (lifecycle.reboot, State.STOPPED),
            (lifecycle.reboot, State.TERMINATED),
        ],
    )
    def test_refused(self, move: lifecycle.Transition, state: State) -> None:
        """Wrong-state calls are IncorrectInstanceState, naming the instance."""
        with pytest.raises(ClientError) as info:
            move(IID, state)
        assert info.value.code == "IncorrectInstanceState"
        assert IID in info.value.message

    def test_settled(self) -> None:
        """The reconciler settles each transitional state into its end state."""
        assert lifecycle.settled(State.PENDING) is State.RUNNING
        assert lifecycle.settled(State.STOPPING) is State.STOPPED
        assert lifecycle.settled(State.SHUTTING_DOWN) is State.TERMINATED
        assert lifecycle.settled(State.RUNNING) is State.RUNNING

    def test_codes(self) -> None:
        """State codes are EC2's."""
        assert [s.code for s in State] == [0, 16, 32, 48, 64, 80]


class TestInstanceTypes:
    def test_limits_follow_the_type(self) -> None:
        """Memory, CPU and pids limits come from the type; CPUs never exceed the host's."""
        nano = instance_types.lookup("t3.nano")
        large = instance_types.lookup("t3.large")
        assert nano.memory_bytes == 512 * 1024 * 1024
        assert large.memory_bytes == 8 * 1024**3
        assert nano.cpus(host_cpus=1) == 1.0
        assert instance_types.lookup("t2.micro").cpus(host_cpus=8) == 1.0
        assert nano.pids_max < large.pids_max

    def test_unknown_type(self) -> None:
        """An unknown type is InvalidParameterValue."""
        with pytest.raises(InvalidParameterValue):
            instance_types.lookup("x9.mega")
