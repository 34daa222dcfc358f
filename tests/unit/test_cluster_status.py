"""`hotline sandbox cluster status --json` on a fake cluster state file (no process started):
the shape issue 20 gives it, `{"proxy": "127.0.0.1:PORT", "nodes": [{"name", "sip",
"ari_url", "console_url", "running"}]}`, and its exit status."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from hotline.cluster import cluster as cluster_module
from hotline.cluster.cluster import Cluster, ClusterState
from hotline.config import Settings
from hotline.sandbox import cli as sandbox_cli
from hotline.sandbox import state_file

NODE_KEYS = {"name", "sip", "ari_url", "console_url", "running"}


def status_json(home: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    parser = argparse.ArgumentParser()
    sandbox_cli.register(parser.add_subparsers())
    args = parser.parse_args(["sandbox", "cluster", "status", "--json"])
    code = args.handler(args, Settings(home=home))
    return code, json.loads(capsys.readouterr().out)


def two_nodes_started(home: Path) -> None:
    c = Cluster(Settings(home=home))
    state_file.save(c.state_file, ClusterState(
        nodes=2, db_url="postgresql+asyncpg://hotline@127.0.0.1:5489/hotline", own_db=True,
        proxy_pid=0, controllers={"node-1": 0, "node-2": 0}))


def test_status_json_of_a_cluster_never_started(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    code, out = status_json(tmp_path, capsys)
    assert out == {"proxy": "127.0.0.1:5190", "nodes": []}
    assert code == 1


def test_status_json_of_two_nodes_whose_processes_are_gone(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    two_nodes_started(tmp_path)
    code, out = status_json(tmp_path, capsys)
    assert set(out) == {"proxy", "nodes"} and out["proxy"] == "127.0.0.1:5190"
    assert [set(n) >= NODE_KEYS for n in out["nodes"]] == [True, True]
    assert [{k: n[k] for k in NODE_KEYS} for n in out["nodes"]] == [
        {"name": "node-1", "sip": "127.0.0.1:5460", "ari_url": "http://127.0.0.1:8488/ari",
         "console_url": "http://127.0.0.1:8580", "running": False},
        {"name": "node-2", "sip": "127.0.0.1:5461", "ari_url": "http://127.0.0.1:8489/ari",
         "console_url": "http://127.0.0.1:8581", "running": False}]
    assert code == 1  # not every node runs


def test_status_json_says_running_only_for_a_node_whose_asterisk_and_controller_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    two_nodes_started(tmp_path)

    async def asterisk_up(self: Any, secrets: bool = False) -> dict[str, Any]:
        return {"running": True}

    def controller_up(pid: int, home: Path) -> bool:
        return home.name == "node-1"  # node-2's controller is down

    monkeypatch.setattr(cluster_module.Sandbox, "status", asterisk_up)
    monkeypatch.setattr(cluster_module, "_serve_alive", controller_up)
    code, out = status_json(tmp_path, capsys)
    assert [(n["name"], n["running"]) for n in out["nodes"]] == [("node-1", True),
                                                                 ("node-2", False)]
    assert code == 1

    monkeypatch.setattr(cluster_module, "_serve_alive", lambda pid, home: True)
    code, out = status_json(tmp_path, capsys)
    assert [n["running"] for n in out["nodes"]] == [True, True]
    assert code == 0
