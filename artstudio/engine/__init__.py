"""Background jobs, cancellation, progress, devices and the model cache.

Nothing here imports QtWidgets; `qt_bridge` (QtCore only) is imported by the UI
alone, so the command line and the tests run the engine without Qt.
"""

from artstudio.engine.cancel import Cancelled, CancelToken
from artstudio.engine.engine import Engine, JobHandle
from artstudio.engine.errors import RequestRefused, UserFacingError, describe_error
from artstudio.engine.jobs import JobEvent, JobKind, JobSpec, JobState, Lane, Progress

__all__ = [
    "CancelToken",
    "Cancelled",
    "Engine",
    "JobEvent",
    "JobHandle",
    "JobKind",
    "JobSpec",
    "JobState",
    "Lane",
    "Progress",
    "RequestRefused",
    "UserFacingError",
    "describe_error",
]
