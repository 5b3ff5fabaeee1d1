"""The Redis store on a Redis Cluster: slots, round trips, and a primary that fails over mid-call.

The cluster (three primaries, a replica each) is started by the tests on free
ports (tests/redis_server.py). The store contract, the lock race and the
multi-worker scenarios also run on the session's cluster (tests/test_stores.py,
tests/test_race.py, tests/test_multiprocess.py, tests/test_ivr_multiprocess.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from flask_aiflow.calls.redis_store import RedisStore
from flask_aiflow.calls.store import CallRecord

from .helpers import event, make_app
from .redis_server import RedisCluster, redis_cluster, require_redis_server
from .test_redis import command_counts, counter, post

pytestmark = pytest.mark.redis


@pytest.fixture
def store(redis_cluster_url: str, redis_prefix: str) -> Iterator[RedisStore]:
    store = RedisStore.from_url(redis_cluster_url, prefix=redis_prefix)
    yield store
    store.close()


def test_a_cluster_url_selects_the_cluster_client(store: RedisStore) -> None:
    import redis

    assert store.cluster and isinstance(store.client, redis.RedisCluster)


def test_every_key_of_a_call_is_in_one_slot_and_the_live_index_on_several_nodes(
    store: RedisStore, redis_cluster: RedisCluster
) -> None:
    client = store.client
    for sid in ("plain", "with{braces}", "}{"):
        slots = {client.keyslot(key) for key in store.keys(sid).leave()}
        assert len(slots) == 1, (sid, slots)
    shards = [store._shard(number) for number in range(RedisStore.LIVE_SHARDS)]
    owners = {redis_cluster.primary_of(key).port for key in shards}
    assert len(owners) > 1


def test_an_event_costs_two_scripts_on_the_cluster_too(
    store: RedisStore, redis_cluster: RedisCluster, redis_app: Any, redis_cluster_url: str
) -> None:
    app = redis_app(redis_cluster_url, counter())
    assert post(app, event("session_start", "rt")).status_code in (200, 204)
    primary = redis_cluster.primary_of(store.keys("rt").record)
    node = store.client.get_node(host="127.0.0.1", port=primary.port).redis_connection
    node.config_resetstat()
    for number in range(1, 4):
        assert post(app, event("user_speak", "rt")).get_json()["text"] == f"turn {number}"
    assert command_counts(node) == {"evalsha": 6}


def test_live_calls_lists_calls_from_every_node(store: RedisStore) -> None:
    ids = [f"call-{number}" for number in range(40)]
    for sid in ids:
        with store.transaction(sid) as txn:
            txn.save(CallRecord(meta={"id": sid}), 60)
    assert sorted(sid for sid, _ in store.records()) == sorted(ids)


def test_a_primary_stopped_mid_call_fails_over_to_its_replica(redis_prefix: str) -> None:
    """At most the event in flight gets a 503 with Retry-After; the call then goes on where it was."""
    with redis_cluster(require_redis_server()) as cluster:
        app = make_app(counter(), AIFLOW_STATE_STORE=cluster.url, AIFLOW_REDIS_PREFIX=redis_prefix)
        store: Any = app.extensions["aiflow"].store
        assert post(app, event("session_start", "failover")).status_code in (200, 204)
        assert post(app, event("user_speak", "failover")).get_json()["text"] == "turn 1"

        primary = cluster.primary_of(store.keys("failover").record)
        cluster.wait_until_replicated(primary)  # (a write not yet replicated would be lost)
        replica = cluster.replica_of(primary)
        primary.stop()
        in_flight = post(app, event("user_speak", "failover"))
        if in_flight.status_code == 503:
            assert in_flight.headers["Retry-After"] == "1"
            assert in_flight.get_json()["error"] == "store_unavailable"
            expected = 2  # the service retries the event: the count goes on from 1
        else:
            assert in_flight.get_json()["text"] == "turn 2"  # the cluster failed over in time
            expected = 3
        cluster.take_over(replica)

        assert post(app, event("user_speak", "failover")).get_json()["text"] == f"turn {expected}"
        assert post(app, event("user_speak", "failover")).get_json()["text"] == f"turn {expected + 1}"
        assert post(app, event("session_end", "failover")).status_code == 204
        assert store.load("failover") is None
        store.close()
