"""Throwaway redis-servers for the tests, on free ports, without persistence.

:func:`redis_server` runs one; :func:`redis_cluster` runs a Redis Cluster of
three primaries with a replica each. A test may stop and start a server
(:class:`RedisProcess`) to see what the app does meanwhile.

The tests that need Redis skip, with the reason, when no ``redis-server`` is on
the PATH, except under CI (the ``CI`` environment variable set), where a
missing server is a failure: CI must test the Redis store, not skip it
(``tests/setup-system.sh`` installs it).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from .server import free_port

MISSING = (
    "redis-server is not on the PATH: the Redis store tests need a real one "
    "(run tests/setup-system.sh, or install the redis-server package)"
)

#: How long a cluster node may be silent before the others call it failed (ms).
CLUSTER_NODE_TIMEOUT_MS = 1000


def require_redis_server() -> str:
    """The binary's path; skips the test (fails it under CI) when there is none."""
    path = shutil.which("redis-server")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and {MISSING}", pytrace=False)
        pytest.skip(MISSING)
    return path


def _client(port: int) -> Any:
    import redis

    return redis.Redis(host="127.0.0.1", port=port, decode_responses=True, socket_timeout=5)


def wait_for(what: str, check: Callable[[], Any], timeout: float = 20.0) -> None:
    """Wait until ``check()`` is true (checked every 20 ms), or fail naming ``what``."""
    import redis

    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except (redis.RedisError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@dataclass
class RedisProcess:
    """One redis-server on a fixed port in its own directory; can be stopped and started again."""

    binary: str
    port: int
    workdir: Path
    options: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), *self.options],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = _client(self.port)
        process = self.process

        def up() -> bool:
            if process.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} exited with {process.returncode}")
            return bool(client.ping())

        try:
            wait_for(f"redis-server on port {self.port}", up, timeout=10)
        finally:
            client.close()

    def stop(self) -> None:
        """Stop the server as a crash would (SIGKILL: nothing is saved, no goodbye to clients)."""
        if self.process is None:
            return
        self.process.kill()
        self.process.wait()
        self.process = None


@contextmanager
def redis_server(binary: str) -> Iterator[str]:
    """Run a redis-server on a free port; yields its URL (database 0)."""
    with redis_process(binary) as server:
        yield server.url


@contextmanager
def redis_process(binary: str) -> Iterator[RedisProcess]:
    """Run a redis-server on a free port; yields it, to be stopped and started by the test."""
    workdir = Path(tempfile.mkdtemp(prefix="aiflow-redis-"))
    server = RedisProcess(binary, free_port(), workdir)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


@dataclass
class RedisCluster:
    """A local Redis Cluster: three primaries, a replica each."""

    nodes: list[RedisProcess]

    @property
    def url(self) -> str:
        """The store URL (any node is an entry point)."""
        return f"redis+cluster://127.0.0.1:{self.nodes[0].port}"

    def primary_of(self, key: str) -> RedisProcess:
        """The node that serves ``key``'s slot now."""
        for node in self.running():
            client = _client(node.port)
            try:
                slot = client.cluster("keyslot", key)
                for start, end, primary, *_ in client.cluster("slots"):
                    if start <= slot <= end:
                        return self.node(int(primary[1]))
            finally:
                client.close()
        raise RuntimeError(f"no node serves {key!r}")

    def replica_of(self, primary: RedisProcess) -> RedisProcess:
        client = _client(primary.port)
        try:
            info = client.info("replication")
        finally:
            client.close()
        return self.node(int(info["slave0"]["port"]))

    def node(self, port: int) -> RedisProcess:
        return next(node for node in self.nodes if node.port == port)

    def running(self) -> list[RedisProcess]:
        return [node for node in self.nodes if node.process is not None]

    def wait_until_replicated(self, primary: RedisProcess) -> None:
        """Wait until the primary's replica has every write (replication is asynchronous)."""
        replica = self.replica_of(primary)

        def caught_up() -> bool:
            first, second = _client(primary.port), _client(replica.port)
            try:
                offset = first.info("replication")["master_repl_offset"]
                return bool(second.info("replication")["slave_repl_offset"] >= offset)
            finally:
                first.close()
                second.close()

        wait_for(f"the replica on port {replica.port} to catch up", caught_up)

    def take_over(self, replica: RedisProcess) -> None:
        """Promote a replica whose primary is gone (what an operator or the cluster itself does)."""
        client = _client(replica.port)
        try:
            if client.info("replication")["role"] != "master":  # the cluster may have done it already
                client.execute_command("CLUSTER", "FAILOVER", "TAKEOVER")
            wait_for(f"port {replica.port} to become a primary",
                     lambda: client.info("replication")["role"] == "master")
        finally:
            client.close()
        self.wait_healthy()

    def wait_healthy(self) -> None:
        def ok() -> bool:
            for node in self.running():
                client = _client(node.port)
                try:
                    if client.cluster("info")["cluster_state"] != "ok":
                        return False
                finally:
                    client.close()
            return True

        wait_for("the cluster to be healthy", ok, timeout=30)


@contextmanager
def redis_cluster(binary: str) -> Iterator[RedisCluster]:
    """Run a Redis Cluster of 3 primaries and 3 replicas on free ports, in a temporary directory."""
    cli = shutil.which("redis-cli")
    if cli is None:
        pytest.skip("redis-cli is not on the PATH: it creates the test cluster")
    workdir = Path(tempfile.mkdtemp(prefix="aiflow-cluster-"))
    with ExitStack() as stack:
        stack.callback(shutil.rmtree, workdir, ignore_errors=True)
        nodes = []
        for number in range(6):
            directory = workdir / str(number)
            directory.mkdir()
            # its own bus port: the default (port + 10000) may not exist for a free port
            node = RedisProcess(binary, free_port(), directory, [
                "--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf", "--cluster-port", str(free_port()),
                "--cluster-node-timeout", str(CLUSTER_NODE_TIMEOUT_MS),
            ])
            node.start()
            stack.callback(node.stop)
            nodes.append(node)
        subprocess.run(
            [cli, "--cluster", "create", *(f"127.0.0.1:{node.port}" for node in nodes),
             "--cluster-replicas", "1", "--cluster-yes"],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60,
        )
        cluster = RedisCluster(nodes)
        cluster.wait_healthy()
        for node in nodes:  # every replica attached and in sync
            client = _client(node.port)
            try:
                if client.info("replication")["role"] == "master":
                    wait_for("a replica to attach",
                             lambda c=client: c.info("replication")["connected_slaves"] >= 1)
            finally:
                client.close()
        yield cluster
