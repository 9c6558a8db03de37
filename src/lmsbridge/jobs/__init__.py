"""The durable job queue. It knows nothing of LMSs: jobs are (kind, payload) rows in the store,
enqueued inside the caller's transaction, claimed with a lease, renewed while they run."""

from lmsbridge.jobs.queue import Job, JobQueue, enqueue
from lmsbridge.jobs.worker import Handler, JobContext, JobDeferred, JobReleased, Worker

__all__ = ["Handler", "Job", "JobContext", "JobDeferred", "JobQueue", "JobReleased", "Worker", "enqueue"]
