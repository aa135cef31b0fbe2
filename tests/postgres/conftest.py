"""Fixtures of the PostgreSQL tests: a new database each, a store on it, a cluster of one's own."""

from __future__ import annotations

import pytest

from boltdeck.storage import ExecutionStore

from ..pg import Cluster, fresh_database_url


@pytest.fixture
def database_url() -> str:
    """A new empty database on the session's PostgreSQL server."""
    return fresh_database_url()


@pytest.fixture
def store(database_url):
    store = ExecutionStore(database_url)
    yield store
    store.dispose()


@pytest.fixture
def own_cluster():
    """A PostgreSQL cluster of this test's own, which it may stop and start again."""
    cluster = Cluster()
    try:
        yield cluster.start()
    finally:
        cluster.destroy()
