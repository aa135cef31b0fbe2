"""Several Boltdeck processes on one store: worker identities, leases, the shared queue, ownership."""

from .store import ClusterStore
from .worker import ROLES, Worker, this_worker

__all__ = ["ClusterStore", "ROLES", "Worker", "this_worker"]
