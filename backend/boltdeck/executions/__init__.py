"""Executions: the status machine, the append-only event log and the service that runs them."""
