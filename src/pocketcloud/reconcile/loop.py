"""The reconciler: makes the host match the desired state in the store.

It runs in the server process on a thread of its own: at start-up, whenever an
API call changes something (``wake``), and every few seconds. Each pass reads the
store (briefly), does the slow host work without holding the store, and settles
transitional states with compare-and-set updates, so an API call that changed
an instance meanwhile is never overwritten. Host objects of this cloud's prefix
that no instance accounts for are removed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from pocketcloud.host import firewall, network, runtime
from pocketcloud.host import images as host_images
from pocketcloud.host.run import HostError
from pocketcloud.reconcile import addresses as address_sync
from pocketcloud.reconcile import outbound
from pocketcloud.reconcile import vpcs as vpc_sync
from pocketcloud.reconcile.firewall import FirewallSync
from pocketcloud.services.context import Cloud, now
from pocketcloud.services.ec2 import images, instance_types, instances, volumes
from pocketcloud.services.ec2.instances import Instance
from pocketcloud.services.ec2.lifecycle import State, settled
from pocketcloud.services.s3 import objects as s3_objects

log = logging.getLogger("pocketcloud.reconcile.loop")

PERIOD = 5.0


def workdir(cloud: Cloud, instance_id: str) -> Path:
    """Where an instance's upper layer, console log and runtime files live."""
    return cloud.paths.instances / instance_id


def spec_for(
    cloud: Cloud, instance: Instance, rootfs: Path, user_data: bytes | None, login_user: str
) -> runtime.InstanceSpec:
    """The host-side description of an instance (pure)."""
    itype = instance_types.lookup(instance.instance_type)
    prefix_len = int(
        cloud.store.scalar(
            "SELECT cidr FROM subnets WHERE subnet_id = ?", (instance.subnet_id,)
        ).split("/")[1]
    )
    return runtime.InstanceSpec(
        instance_id=instance.instance_id,
        prefix=cloud.settings.prefix,
        workdir=workdir(cloud, instance.instance_id),
        rootfs=rootfs,
        private_ip=instance.private_ip,
        prefix_len=prefix_len,
        hostname=instance.hostname,
        login_user=login_user,
        authorized_key=instance.public_key or "",
        user_data=user_data,
        memory_bytes=itype.memory_bytes,
        cpus=itype.cpus(),
        pids_max=itype.pids_max,
        metadata_port=cloud.settings.imds_port,
        outbound=outbound.has_outbound(cloud, instance.subnet_id),
        mac=cloud.store.scalar(
            "SELECT mac FROM network_interfaces WHERE instance_id = ?", (instance.instance_id,)
        ),
        aws_env=aws_env(cloud),
    )


def aws_env(cloud: Cloud) -> tuple[tuple[str, str], ...]:
    """How programs on an instance find this cloud with no configuration: its endpoint on
    the instances' gateway and its region (credentials come from the metadata service)."""
    return (
        ("AWS_ENDPOINT_URL", f"http://{network.GATEWAY}:{cloud.settings.port}"),
        ("AWS_REGION", cloud.region),
        ("AWS_DEFAULT_REGION", cloud.region),
    )


class Reconciler:
    """Drives instances toward their stored state on a background thread."""

    def __init__(self, cloud: Cloud, workers: int = 8) -> None:
        self.cloud = cloud
        self._event = threading.Event()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="reconcile")
        self._busy: dict[str, Future[None]] = {}
        self._again: set[str] = set()  # instances to look at again once their worker is done
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name="reconciler", daemon=True)
        self._image_lock = threading.Lock()
        self._firewall = FirewallSync(cloud)
        self._addresses = address_sync.AddressSync(cloud)
        self._vpc = vpc_sync.VpcSync(cloud)

    def start(self) -> None:
        """Begin reconciling (a first pass runs at once). Needs root."""
        swept = s3_objects.sweep(self.cloud)
        if swept:
            log.info("removed %d partial or orphaned S3 bodies", len(swept))
        self._vpc.sync_addresses(repair=True)
        self.cloud.on_change = self.wake
        self._firewall.start()
        self._thread.start()

    def wake(self) -> None:
        """Ask for a pass soon (called after every API change)."""
        self._event.set()

    def close(self, timeout: float = 30) -> None:
        """Stop the loop and wait for host work in flight; instances keep running."""
        self._stop.set()
        self._event.set()
        self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)
        self._firewall.close()

    def _loop(self) -> None:
        thorough = True  # the first pass, and every timed one, also inspects the host
        while not self._stop.is_set():
            self._event.clear()
            try:
                self.pass_once(thorough=thorough)
            except Exception:
                log.exception("reconcile pass failed")
            thorough = not self._event.wait(PERIOD)

    def pass_once(self, thorough: bool = True) -> None:
        """One pass: firewall first, then act on every instance not already being acted
        on. A thorough pass also repairs the firewall table and sweeps orphaned host
        objects; passes woken by API calls skip that host inspection (it forks commands)
        so that a burst of calls stays cheap."""
        self._firewall.sync(repair=thorough)
        self._addresses.sync(repair=thorough)
        current = instances.load(self.cloud)
        self._sync_vpcs(current, thorough)
        for instance in current:
            self._submit(instance)
        keep = {i.instance_id for i in current if i.state is not State.TERMINATED}
        if thorough:
            with self._lock:
                keep |= set(self._busy)
            removed = runtime.remove_host_objects(self.cloud.settings.prefix, keep)
            if removed:
                log.info("removed orphaned host objects: %s", ", ".join(removed))
            self._purge_terminated()

    def _sync_vpcs(self, current: list[Instance], thorough: bool) -> None:
        """VPC routes, NAT and the outbound rules of running instances. An instance a
        worker is acting on is left to it, and looked at again once the worker is done
        (no other worker can start meanwhile: only this thread submits work)."""
        with self._lock:
            busy = {iid for iid, future in self._busy.items() if not future.done()}
        running = [(i.instance_id, i.subnet_id) for i in current if i.state is State.RUNNING]
        try:
            self._vpc.sync_addresses(repair=thorough)
            self._again_after(self._vpc.sync_outbound(running, busy, repair=thorough))
        except HostError:
            log.exception("VPC host sync failed")

    def _again_after(self, instance_ids: list[str]) -> None:
        """Ask for a pass once the workers acting on these instances are done."""
        now_please = False
        with self._lock:
            for instance_id in instance_ids:
                future = self._busy.get(instance_id)
                if future is None or future.done():
                    now_please = True
                else:
                    self._again.add(instance_id)
        if now_please:
            self.wake()

    def _submit(self, instance: Instance) -> None:
        with self._lock:
            running = self._busy.get(instance.instance_id)
            if running is not None and not running.done():
                return
            future = self._pool.submit(self._act, instance)
            self._busy[instance.instance_id] = future
        future.add_done_callback(partial(self._done, instance.instance_id))

    def _done(self, instance_id: str, _future: object = None) -> None:
        with self._lock:
            future = self._busy.get(instance_id)
            if future is not None and future.done():
                del self._busy[instance_id]
            again = instance_id in self._again
            self._again.discard(instance_id)
        if again:
            self.wake()

    def _act(self, instance: Instance) -> None:
        started = time.monotonic()
        try:
            ACTIONS[instance.state](self, instance)
            if instance.state is not State.RUNNING and instance.state is not State.TERMINATED:
                log.info(
                    "%s: %s handled in %.3f s",
                    instance.instance_id,
                    instance.state.value,
                    time.monotonic() - started,
                )
        except HostError as error:
            log.error("%s: host work failed: %s", instance.instance_id, error)
        except Exception:
            log.exception("%s: reconcile failed", instance.instance_id)

    # --- per-state actions ---------------------------------------------------------------

    def _spec(self, instance: Instance) -> runtime.InstanceSpec:
        image = self._image(instance.image_id)
        raw = self.cloud.store.scalar(
            "SELECT user_data FROM instances WHERE instance_id = ?", (instance.instance_id,)
        )
        user_data = None if raw is None else bytes(raw)
        return spec_for(self.cloud, instance, image.rootfs, user_data, image.login_user)

    def _image(self, image_id: str) -> host_images.Image:
        cache = images.cache(self.cloud)
        found = host_images.find_image(cache, image_id)
        if found is not None:
            return found
        view = images.require(self.cloud, image_id)
        with self._image_lock:
            log.info("building image %s on first use", view.name)
            return host_images.build_image(cache, view.name, progress=log.info)

    def _ensure_running(self, instance: Instance) -> None:
        spec = self._spec(instance)
        if not runtime.is_running(spec):
            runtime.stop(spec)  # clears what a crash mid-start may have left
            self._start(spec, instance)
        self._settle(instance, State.RUNNING)

    def _running(self, instance: Instance) -> None:
        reboot = self.cloud.store.scalar(
            "SELECT reboot_requested FROM instances WHERE instance_id = ?",
            (instance.instance_id,),
        )
        spec = self._spec(instance)
        if reboot:
            runtime.stop(spec)
            self.cloud.store.execute(
                "UPDATE instances SET reboot_requested = 0 WHERE instance_id = ?",
                (instance.instance_id,),
            )
        if not runtime.is_running(spec):
            log.info("%s: (re)starting its machine", instance.instance_id)
            self._start(spec, instance)

    def _start(self, spec: runtime.InstanceSpec, instance: Instance) -> None:
        """Start the machine; if its subnet's outbound access flipped while it started,
        ask for a pass once this worker is done (passes skip busy instances)."""
        runtime.start(spec)
        self._vpc.started(instance.instance_id, spec.outbound)
        if outbound.has_outbound(self.cloud, instance.subnet_id) != spec.outbound:
            with self._lock:
                self._again.add(instance.instance_id)

    def _stopping(self, instance: Instance) -> None:
        runtime.stop(self._bare_spec(instance))
        self._settle(instance, State.STOPPED)

    def _stopped(self, instance: Instance) -> None:
        spec = self._bare_spec(instance)
        if runtime.is_running(spec):
            runtime.stop(spec)

    def _shutting_down(self, instance: Instance) -> None:
        volumes.keep_root(self.cloud, self._bare_spec(instance))  # a kept root volume's data
        runtime.destroy(self._bare_spec(instance))
        self._settle(instance, State.TERMINATED)

    def _terminated(self, instance: Instance) -> None:
        if workdir(self.cloud, instance.instance_id).exists():
            volumes.keep_root(self.cloud, self._bare_spec(instance))
            runtime.destroy(self._bare_spec(instance))

    def _bare_spec(self, instance: Instance) -> runtime.InstanceSpec:
        """A spec good enough to find and remove an instance's host objects (no image)."""
        return spec_for(self.cloud, instance, Path("/nonexistent"), None, "admin")

    def _settle(self, instance: Instance, target: State) -> None:
        """Compare-and-set: move on only if nobody changed the state meanwhile."""
        assert settled(instance.state) is target or instance.state is target
        if instance.state is target:
            return
        self.cloud.store.execute(
            "UPDATE instances SET state = ?, state_changed = ? WHERE instance_id = ? AND state = ?",
            (target.value, now(), instance.instance_id, instance.state.value),
        )

    def _purge_terminated(self) -> None:
        ttl = timedelta(seconds=self.cloud.settings.terminated_ttl_seconds)
        cutoff = (datetime.now(UTC) - ttl).isoformat(timespec="milliseconds")
        cutoff = cutoff.replace("+00:00", "Z")
        with self.cloud.store.transaction():
            doomed = [
                r["instance_id"]
                for r in self.cloud.store.all(
                    "SELECT instance_id FROM instances WHERE state = 'terminated' "
                    "AND state_changed < ?",
                    (cutoff,),
                )
            ]
            for instance_id in doomed:
                self.cloud.store.execute("DELETE FROM tags WHERE resource_id = ?", (instance_id,))
                self.cloud.store.execute(
                    "DELETE FROM instances WHERE instance_id = ?", (instance_id,)
                )


def teardown(cloud: Cloud) -> list[str]:
    """Stop every instance machine of this cloud and remove all its host objects.

    The store keeps every record (running instances start again on the next ``up``).
    Needs root.
    """
    removed = runtime.remove_host_objects(cloud.settings.prefix, keep=set())
    removed += address_sync.teardown(cloud)
    if firewall.remove(cloud.settings.prefix):
        removed.append(f"nft table {firewall.table(cloud.settings.prefix)}")
    return removed + vpc_sync.teardown(cloud)


Action = Callable[[Reconciler, Instance], None]
ACTIONS: dict[State, Action] = {
    State.PENDING: Reconciler._ensure_running,
    State.RUNNING: Reconciler._running,
    State.STOPPING: Reconciler._stopping,
    State.STOPPED: Reconciler._stopped,
    State.SHUTTING_DOWN: Reconciler._shutting_down,
    State.TERMINATED: Reconciler._terminated,
}
