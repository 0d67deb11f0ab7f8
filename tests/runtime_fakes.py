"""Stand-ins for qiskit-ibm-runtime's job and service objects, as ``qbhw.experiments`` uses them when it collects a
bundle's results (status, result, error message; ``service.job(job_id)``)."""

from __future__ import annotations


class FakeJob:
    def __init__(self, status, result=None, error=""):
        self._status, self._result, self._error = status, result, error

    def status(self):
        return self._status

    def result(self):
        return self._result

    def error_message(self):
        return self._error


class FakeService:
    """Jobs by id; an unknown id raises as the runtime does."""

    def __init__(self, jobs):
        self.jobs = jobs

    def job(self, job_id):
        if job_id not in self.jobs:
            raise RuntimeError(f"Job not found: {job_id}")
        return self.jobs[job_id]
