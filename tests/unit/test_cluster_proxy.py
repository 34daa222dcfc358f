"""The cluster's kamailio.cfg as `hotline sandbox cluster` renders it: every placeholder
filled (and refused when its value is unusable), the node list, and the routing a seat's
call depends on: record-routed INVITEs, in-dialog requests (the node's ACK to the seat's
200 OK) by the recorded route, and no node failover timer on a seat's leg."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline.calls.context import FlowSettings
from hotline.cluster import proxy
from hotline.cluster.topology import ProxyTimers, plan
from hotline.config import Settings
from hotline.errors import SandboxError
from hotline.sandbox.sizing import node_size

TIMERS = ProxyTimers.for_ring(1.0, 4.0, 3)


def rendered(tmp_path: Path, operator_networks: str = "127.0.0.1,10.8.0.0/16") -> str:
    cfg = proxy.render(plan(2), TIMERS, tmp_path, "12345", "127.0.0.1", operator_networks,
                       modules="/usr/lib/kamailio/modules/")
    return cfg.read_text()


def block(cfg: str, name: str) -> str:
    """The body of ``name { ... }`` (request_route, route[SEAT], ...), braces matched."""
    start = cfg.index(name + " {") + len(name) + 2
    depth, i = 1, start
    while depth:
        depth += {"{": 1, "}": -1}.get(cfg[i], 0)
        i += 1
    return cfg[start:i - 1]


def before(body: str, first: str, then: str) -> bool:
    return body.index(first) < body.index(then)


def test_every_placeholder_is_filled_and_the_nodes_are_listed(tmp_path: Path) -> None:
    cfg = rendered(tmp_path)
    assert "@@" not in cfg.replace("proxy@127.0.0.1", "")
    assert 'listen=udp:127.0.0.1:5190' in cfg
    assert 'modparam("dispatcher", "ds_ping_from", "sip:proxy@127.0.0.1:5190")' in cfg
    assert 'is_in_subnet("$si", "127.0.0.1/32,10.8.0.0/16")' in block(cfg, "route[REGISTRAR]")
    assert f'modparam("tm", "fr_timer", {TIMERS.fr_timer_ms})' in cfg
    listing = (tmp_path / "dispatcher.list").read_text().splitlines()[1:]
    assert listing == ["1 sip:127.0.0.1:5460 0 0 name=node-1",
                       "1 sip:127.0.0.1:5461 0 0 name=node-2"]


def test_in_dialog_requests_follow_the_recorded_route_before_anything_else(
        tmp_path: Path) -> None:
    main = block(rendered(tmp_path), "request_route")
    # an ACK (it has a to-tag) never reaches the initial-request code (the dispatcher, the
    # seat lookup), which would take it for a new call
    assert re.search(r"if \(has_totag\(\)\) \{\s*route\(WITHINDLG\);\s*\}", main)
    assert before(main, "route(WITHINDLG)", 'remove_hf("Route")')
    assert before(main, "route(WITHINDLG)", "route(SEAT)")
    assert before(main, "route(WITHINDLG)", "route(DISPATCH)")
    # a node's INVITE to a seat is record-routed before it is relayed: the seat's phone
    # echoes the Record-Route, so the node's ACK and BYE come back through the proxy
    assert re.search(r'if \(is_method\("INVITE\|SUBSCRIBE"\)\) \{\s*record_route\(\);', main)
    assert before(main, "record_route()", "route(SEAT)")


def test_an_ack_is_relayed_by_its_route_or_its_transaction_and_never_dropped_silently(
        tmp_path: Path) -> None:
    dialog = block(rendered(tmp_path), "route[WITHINDLG]")
    assert re.search(r"if \(loose_route\(\)\) \{\s*t_relay\(\);\s*exit;", dialog)
    ack = dialog[dialog.index('if (is_method("ACK"))'):]
    assert re.search(r"if \(t_check_trans\(\)\) \{\s*t_relay\(\);\s*exit;", ack)
    assert before(ack, 'xlog("L_WARN", "ACK dropped', "exit;\n\t}")
    assert 'sl_send_reply("404"' in dialog.split('if (is_method("ACK"))')[1]


def test_a_seat_leg_has_no_node_failover_timer(tmp_path: Path) -> None:
    """A phone slower than fr_timer to send its 180 must not get a 408 from the proxy while
    it rings: its 200 OK would reach a node whose INVITE is over, and never be ACKed."""
    seat = block(rendered(tmp_path), "route[SEAT]")
    limit = str(TIMERS.seat_ring_limit_ms)
    assert re.findall(r"t_set_fr\((\d+), (\d+)\)", seat) == [(limit, limit)]
    assert before(seat, 'lookup("location")', "t_relay()")


def test_the_seat_ring_limit_outlasts_every_ring_a_node_ends_itself() -> None:
    longest_ring_s = max(Settings().seat_ring_s, FlowSettings().transfer_ring_s)
    assert 1000 * longest_ring_s < TIMERS.seat_ring_limit_ms < 180_000  # tm's max_inv_lifetime
    assert TIMERS.fr_timer_ms < 1000 * (1.0 + 4.0)  # a dead node: gone within the first ring


def test_fill_refuses_a_placeholder_with_no_value() -> None:
    with pytest.raises(SandboxError, match=r"no value for @@NEW_THING@@, @@OTHER@@"):
        proxy.fill("a=@@NEW_THING@@ b=@@OTHER@@ c=@@BIND@@", {"BIND": "127.0.0.1"})


def test_fill_keeps_an_at_sign_before_a_placeholder() -> None:
    assert proxy.fill('"sip:proxy@@@BIND@@:@@PORT@@"', {"BIND": "10.0.0.1", "PORT": "5190"}) \
        == '"sip:proxy@10.0.0.1:5190"'


@pytest.mark.parametrize("value", ["", '12"345', "12345\nexit;", "a\\b"])
def test_fill_refuses_a_value_that_is_empty_or_breaks_out_of_its_line(value: str) -> None:
    shown = repr(value) if value else "empty"  # the value as given, quoted
    with pytest.raises(SandboxError, match=r"@@PUBLIC_NUMBER@@ \(HOTLINE_PUBLIC_NUMBER\) is "
                                           + re.escape(shown)):
        proxy.fill('$rU == "@@PUBLIC_NUMBER@@"', {"PUBLIC_NUMBER": value})


def test_render_refuses_no_operator_network(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match=r"\(HOTLINE_OPERATOR_NETWORKS\) is empty"):
        rendered(tmp_path, operator_networks=" , ")


def test_render_refuses_no_node(tmp_path: Path) -> None:
    with pytest.raises(SandboxError, match="at least one node"):
        proxy.render([], TIMERS, tmp_path, "12345", "127.0.0.1", "127.0.0.1", modules="/m/")


def test_each_node_gets_its_own_rtp_range_of_the_span_asked() -> None:
    nodes = plan(3, rtp_span=1200)
    assert [(n.rtp_start, n.rtp_end) for n in nodes] == [
        (11000, 12199), (12200, 13399), (13400, 14599)]
    assert node_size(nodes[0].rtp_start, nodes[0].rtp_end).calls == 200  # maxcalls
    assert [(n.rtp_start, n.rtp_end) for n in plan(2)] == [(11000, 11199), (11200, 11399)]


@pytest.mark.parametrize("span", [0, 10, 201, 12_000])
def test_an_rtp_span_that_is_odd_tiny_or_reaches_the_ephemeral_ports_is_refused(
        span: int) -> None:
    with pytest.raises(ValueError, match="--rtp-ports"):
        plan(2, rtp_span=span)
