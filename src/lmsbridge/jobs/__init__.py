"""The durable job queue. It knows nothing of LMSs: jobs are (kind, payload) rows in the store,
enqueued inside the caller's transaction, claimed with a lease, renewed while they run. Its
vocabulary: `JobState` (and its allowed moves), `JobKind` (a handler and its `RetryPolicy`, which
reads the failure's `errors.Intent`), and the in-process wake-up `wake_workers()`."""

from lmsbridge.jobs.queue import Clock, Job, JobQueue, enqueue
from lmsbridge.jobs.retry import DEFAULT_RETRY, RetryPolicy
from lmsbridge.jobs.states import JobState
from lmsbridge.jobs.wakeup import WakeUp, wake_workers
from lmsbridge.jobs.worker import Handler, JobContext, JobDeferred, JobKind, JobReleased, Worker

__all__ = [
    "DEFAULT_RETRY",
    "Clock",
    "Handler",
    "Job",
    "JobContext",
    "JobDeferred",
    "JobKind",
    "JobQueue",
    "JobReleased",
    "JobState",
    "RetryPolicy",
    "WakeUp",
    "Worker",
    "enqueue",
    "wake_workers",
]
