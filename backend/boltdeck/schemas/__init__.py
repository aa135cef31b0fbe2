"""Marshmallow schemas for requests and responses; `load` turns their errors into 400s."""

from .requests import (
    CommandRunSchema,
    EventsQueryArgsSchema,
    ExecutionQueryArgsSchema,
    OutputQueryArgsSchema,
    PackageRunSchema,
    PuppetRunSchema,
    RerunSchema,
    StreamQueryArgsSchema,
    TaskRunSchema,
    load,
)
from .responses import ExecutionSchema, EventPageSchema

__all__ = [
    "CommandRunSchema",
    "EventsQueryArgsSchema",
    "ExecutionQueryArgsSchema",
    "OutputQueryArgsSchema",
    "PackageRunSchema",
    "PuppetRunSchema",
    "RerunSchema",
    "StreamQueryArgsSchema",
    "TaskRunSchema",
    "ExecutionSchema",
    "EventPageSchema",
    "load",
]
