"""The Elastic IP table and routes, rendered by pure code."""

from __future__ import annotations

import errno
import subprocess
from pathlib import Path

import pytest

from pocketcloud.host import eip

POOL = "198.19.7.0/24"
A = eip.Binding("198.19.7.1", "10.200.0.4", "tx1a2b3c4dh", 7)
B = eip.Binding("198.19.7.2", "10.200.0.5", "tx5e6f7a8bh", 8)


def _model(*bindings: eip.Binding) -> eip.Model:
    return eip.Model("tx", POOL, bindings)


class TestRenderTable:
    def test_replaces_the_whole_table_in_one_transaction(self) -> None:
        """The text creates, deletes and defines the table: loading it is atomic and
        leaves nothing of the previous version."""
        lines = eip.render_table(_model(A)).splitlines()
        assert lines[:3] == ["table ip tx_eip", "delete table ip tx_eip", "table ip tx_eip {"]

    def test_maps_each_associated_address_to_its_private_address(self) -> None:
        """One map element per binding, public → private, in address order."""
        text = eip.render_table(_model(B, A))
        assert "elements = { 198.19.7.1 : 10.200.0.4, 198.19.7.2 : 10.200.0.5 }" in text

    def test_no_binding_leaves_an_empty_map(self) -> None:
        """A map or set without elements has no ``elements`` line (nft refuses an empty
        one)."""
        assert "elements" not in eip.render_table(_model())

    def test_translates_in_prerouting_and_output_for_the_pool_only(self) -> None:
        """Packets from instances (prerouting) and from the host (output) to the pool are
        translated at the dstnat priority, before the filter chains."""
        text = eip.render_table(_model(A))
        for hook in ("prerouting", "output"):
            assert f"type nat hook {hook} priority -100; policy accept;" in text
        assert text.count(f"ip daddr {POOL} dnat to ip daddr map @targets") == 2

    def test_hairpin(self) -> None:
        """An instance reaching its own Elastic IP is masqueraded after the translation
        (else its kernel drops its own address as a martian source): one set element
        per bound instance, matched only on translated connections."""
        text = eip.render_table(_model(A, B))
        assert "elements = { 10.200.0.4 . 10.200.0.4, 10.200.0.5 . 10.200.0.5 }" in text
        assert "type nat hook postrouting priority 100; policy accept;" in text
        assert "ct status dnat ip saddr . ip daddr @hairpin masquerade" in text

    @pytest.mark.needs_root  # nft -c
    def test_nft_accepts_it(self) -> None:
        """``nft -c`` (check only, changes nothing) parses the table, empty or not."""
        for model in (_model(), _model(A, B)):
            result = subprocess.run(
                ["nft", "-c", "-f", "-"],
                input=eip.render_table(model).encode(),
                capture_output=True,
                check=False,
            )
            assert result.returncode == 0, result.stderr


class TestRenderRoutes:
    def test_from_nothing(self) -> None:
        """The pool becomes unreachable and each bound address routes to its veth."""
        assert eip.render_routes(_model(A), {}) == (
            f"route replace unreachable {POOL} proto 99\n"
            "route replace 198.19.7.1/32 dev tx1a2b3c4dh proto 99\n"
        )

    def test_nothing_to_do(self) -> None:
        """Routes already as wanted give an empty script."""
        model = _model(A, B)
        assert eip.render_routes(model, eip.wanted_routes(model)) == ""

    def test_reassociation_moves_the_route(self) -> None:
        """An address moved to another instance's veth is replaced in place, never
        deleted first (connections would meet the unreachable route meanwhile)."""
        moved = eip.Binding(A.public_ip, B.private_ip, B.veth)
        before = eip.wanted_routes(_model(A))
        assert eip.render_routes(_model(moved), before) == (
            "route replace 198.19.7.1/32 dev tx5e6f7a8bh proto 99\n"
        )

    def test_disassociation_deletes_the_route(self) -> None:
        """Only the pool's unreachable route is left for an address nobody holds."""
        before = eip.wanted_routes(_model(A, B))
        assert eip.render_routes(_model(B), before) == "route del 198.19.7.1/32 proto 99\n"

    def test_wanted_routes(self) -> None:
        """What the kernel must list: the pool unreachable, a /32 per binding."""
        assert eip.wanted_routes(_model(A)) == {POOL: "unreachable", "198.19.7.1/32": A.veth}


def test_a_veth_being_deleted_counts_as_gone(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a vanishing veth's ifindex can fail with EINVAL: that veth is left out, the
    read does not raise (it killed the Elastic IP watcher thread, and every reconcile pass
    after it failed)."""

    def read_text(self: Path, *args: object, **kwargs: object) -> str:
        if "gone0" in str(self):
            raise OSError(errno.EINVAL, "Invalid argument")
        if "here0" in str(self):
            return "42\n"
        raise FileNotFoundError(str(self))

    monkeypatch.setattr(Path, "read_text", read_text)
    assert eip.links(["gone0", "here0", "never0"]) == {"here0": 42}
