"""Instance state changes and attributes: Start/Stop/Reboot/Terminate, Modify/Describe.

Each call moves the stored state (see ``lifecycle``) in one transaction and wakes
the reconciler, which does the host work and settles the state.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from pocketcloud.errors import ClientError, InvalidParameterValue
from pocketcloud.host import runtime
from pocketcloud.services.context import Cloud, now
from pocketcloud.services.ec2 import addresses, instance_types, lifecycle, volumes
from pocketcloud.services.ec2.instances import Instance, change_groups, decode_user_data, require
from pocketcloud.services.ec2.lifecycle import State

ATTRIBUTES = (
    "instanceType",
    "userData",
    "groupSet",
    "disableApiTermination",
    "disableApiStop",
    "instanceInitiatedShutdownBehavior",
    "rootDeviceName",
    "sourceDestCheck",
    "ebsOptimized",
    "enaSupport",
    "kernel",
    "ramdisk",
    "blockDeviceMapping",
    "productCodes",
    "sriovNetSupport",
    "enclaveOptions",
)


@dataclass(frozen=True)
class StateChange:
    """One instance's state before and after a call, as the API reports it."""

    instance_id: str
    previous: State
    current: State


def _reason(verb: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S GMT")
    return f"User initiated ({stamp})" if verb else ""


def _change(
    cloud: Cloud, instance_ids: Sequence[str], verb: str, move: lifecycle.Transition
) -> list[StateChange]:
    changes = []
    with cloud.store.transaction():
        for instance in require(cloud, instance_ids):
            target = move(instance.instance_id, instance.state)
            if target is not instance.state:
                cloud.store.execute(
                    "UPDATE instances SET state = ?, state_reason = ?, state_changed = ? "
                    "WHERE instance_id = ?",
                    (target.value, _reason(verb), now(), instance.instance_id),
                )
            changes.append(StateChange(instance.instance_id, instance.state, target))
    cloud.wake()
    return changes


def start_instances(cloud: Cloud, instance_ids: Sequence[str]) -> list[StateChange]:
    """StartInstances."""
    return _change(cloud, instance_ids, "start", lifecycle.start)


def stop_instances(cloud: Cloud, instance_ids: Sequence[str]) -> list[StateChange]:
    """StopInstances."""
    return _change(cloud, instance_ids, "stop", lifecycle.stop)


def terminate_instances(cloud: Cloud, instance_ids: Sequence[str]) -> list[StateChange]:
    """TerminateInstances: root volumes are deleted or kept (DeleteOnTermination); Elastic
    IPs are disassociated, and stay allocated."""
    with cloud.store.transaction():  # one transaction: the reconciler sees both changes
        changes = _change(cloud, instance_ids, "terminate", lifecycle.terminate)
        volumes.release_for_termination(
            cloud, [c.instance_id for c in changes if c.previous is not c.current]
        )
    addresses.disassociate_instances(cloud, instance_ids)
    return changes


def reboot_instances(cloud: Cloud, instance_ids: Sequence[str]) -> None:
    """RebootInstances: the reconciler restarts the instance's machine in place."""
    with cloud.store.transaction():
        for instance in require(cloud, instance_ids):
            lifecycle.reboot(instance.instance_id, instance.state)
            cloud.store.execute(
                "UPDATE instances SET reboot_requested = 1 WHERE instance_id = ?",
                (instance.instance_id,),
            )
    cloud.wake()


def _stopped(instance: Instance, what: str) -> None:
    if instance.state is not State.STOPPED:
        raise ClientError(
            "IncorrectInstanceState",
            f"The instance '{instance.instance_id}' is not in the 'stopped' state "
            f"(changing {what} requires it).",
        )


def modify_instance_attribute(
    cloud: Cloud,
    instance_id: str,
    *,
    instance_type: str | None = None,
    group_ids: Sequence[str] | None = None,
    user_data: str | None = None,
) -> None:
    """ModifyInstanceAttribute: instance type and user data while stopped; groups any time."""
    with cloud.store.transaction():
        instance = require(cloud, [instance_id])[0]
        if instance.state is State.TERMINATED:
            raise ClientError(
                "IncorrectInstanceState", f"The instance '{instance_id}' is terminated."
            )
        if instance_type is not None:
            _stopped(instance, "the instance type")
            cloud.store.execute(
                "UPDATE instances SET instance_type = ? WHERE instance_id = ?",
                (instance_types.lookup(instance_type).name, instance_id),
            )
        if user_data is not None:
            _stopped(instance, "user data")
            cloud.store.execute(
                "UPDATE instances SET user_data = ? WHERE instance_id = ?",
                (decode_user_data(user_data), instance_id),
            )
        if group_ids is not None:
            change_groups(cloud, instance_id, group_ids)
    cloud.wake()


def console_output(cloud: Cloud, instance_id: str) -> tuple[Instance, bytes]:
    """GetConsoleOutput: the instance and the latest of its console log (reads a file)."""
    instance = require(cloud, [instance_id])[0]
    return instance, runtime.console_output(cloud.paths.instances / instance.instance_id)


def user_data_of(cloud: Cloud, instance_id: str) -> bytes | None:
    """The instance's user data, decoded."""
    require(cloud, [instance_id])
    raw = cloud.store.scalar(
        "SELECT user_data FROM instances WHERE instance_id = ?", (instance_id,)
    )
    return None if raw is None else bytes(raw)


def encoded_user_data(cloud: Cloud, instance_id: str) -> str | None:
    """User data as DescribeInstanceAttribute returns it (base64)."""
    raw = user_data_of(cloud, instance_id)
    return None if raw is None else base64.b64encode(raw).decode()


def check_attribute(name: str) -> None:
    """InvalidParameterValue for an attribute DescribeInstanceAttribute does not know."""
    if name not in ATTRIBUTES:
        raise InvalidParameterValue(f"Value ({name}) for parameter attribute is invalid.")
