"""The sweep: jobs that wait in the database with no live message on the broker are sent again.

The database is the durable queue; a broker message only wakes a worker for a job. Messages
get lost: a restarted Redis keeps nothing, a worker killed whole leaves the messages it had
taken in kombu's ``unacked`` hash (restored only after the visibility timeout, hours), and the
filesystem broker forgets a message once it is read. So every worker sweeps when it connects
and every ``SYNTHREG_SWEEP_SECONDS`` after (``SweepStep``, on the worker's own timer), and
``manage.py requeue`` sweeps on demand. A lost message is replaced within about two intervals.

One sweep:

1. From the database, the jobs that need a delivery: queued for longer than one interval (a
   younger job's message may still be on its way: it is sent on commit), running with their
   holder gone (``runner.holder_is_gone``), and released parents whose shards have all ended.
2. Only if there are any, one look at the broker for the messages *waiting* in a queue (a
   task's id is its job's id). Redis: every priority list of the jobs' queues and kombu's
   ``unacked`` hash, read in one MULTI so nothing moves between the reads; the filesystem
   broker: the files in its queue folder. Reading is linear in the queue's length, and
   skipped when nothing waits.
3. A job without a waiting message is a suspect. It is acted on only if this process's
   previous sweep found it a suspect too, unchanged (same state, attempts and holder): a
   message sits between a queue and ``unacked`` for an instant, and a live worker claims a
   message it took within moments, so neither outlasts an interval. Acting: a message a
   consumer took but never acted on (its worker died) is put back in its queue by kombu's own
   restore, a WATCHed transaction, so it moves once even when the worker's own requeue races
   it; with no such message, a new one is sent.

Sweeps take a broker-wide lock in turn (Redis SET NX with an expiry; a file lock beside the
filesystem broker's queue), so two workers never act on one suspect at once and each sweep
sees what the one before sent. A needless message costs one delivery that does nothing: the
runner's conditional claim remains what makes effects happen once.

Each sweep also removes what killed workers left for jobs that have since ended (a checkpoint,
a staging folder, an unrecorded version or report prefix: ``jobs.leftovers``), and drops upload
sessions past their lifetime with their bytes (``catalog.uploads.sessions.remove_expired``).
"""

from __future__ import annotations

import fcntl
import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from itertools import chain
from pathlib import Path

import redis
from celery import bootsteps
from django.conf import settings
from django.db import connections
from django.utils import timezone

from catalog.uploads import sessions as upload_sessions
from jobs import service
from jobs.leftovers import remove_leftovers
from jobs.models import Job
from jobs.runner import holder_is_gone
from synthreg.celery import app

log = logging.getLogger(__name__)
State = Job.State
LOCK_NAME = "synthreg:sweep"


@dataclass
class Snapshot:
    """What the broker holds for jobs: ids with a message waiting, and delivery tags taken."""

    waiting: set[str] = field(default_factory=set)
    taken: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class Outcome:
    swept: bool = False  # False: another process's sweep held the lock
    suspects: int = 0
    sent: int = 0
    restored: int = 0
    tidied: int = 0  # leftovers of ended jobs removed (jobs.leftovers)
    expired_uploads: int = 0  # upload sessions past their lifetime dropped with their bytes


def jobs_needing_delivery() -> dict[str, tuple[str, tuple]]:
    """``{job id: (queue, (state, attempts, holder))}`` of every job waiting for a delivery."""
    settled = timezone.now() - timedelta(seconds=settings.SYNTHREG_SWEEP_SECONDS)
    fields = ("id", "queue", "state", "attempts", "worker", "started_at", "heartbeat_at")
    queued = Job.objects.filter(state=State.QUEUED, created_at__lt=settled).only(*fields)
    held = (job for job in Job.objects.filter(state=State.RUNNING).exclude(worker="").only(*fields)
            if holder_is_gone(job))
    # A released parent waits for its shards; once they have all ended, the last one's wake-up is due.
    released = (Job.objects.filter(state=State.RUNNING, worker="")
                .exclude(shards__state__in=[State.QUEUED, State.RUNNING]).only(*fields))
    return {str(job.pk): (job.queue, (job.state, job.attempts, job.worker)) for job in chain(queued, held, released)}


def _task_id(message: dict) -> str | None:
    return message.get("headers", {}).get("id")


class RedisQueues:
    """The Redis transport's queue lists and ``unacked`` hash, named as kombu names them."""

    def __init__(self, channel) -> None:
        self.channel = channel
        self.prefix = channel.global_keyprefix or ""
        # A plain client on kombu's pool: kombu's own prefixes only some commands; we prefix all.
        self.client = redis.Redis(connection_pool=channel.pool)

    @contextmanager
    def exclusive(self) -> Iterator[bool]:
        key, token = self.prefix + LOCK_NAME, uuid.uuid4().hex
        # Outlives any sweep, and frees the lock of a sweeper that died holding it.
        expiry_ms = int(max(10.0, 2 * settings.SYNTHREG_SWEEP_SECONDS) * 1000)
        mine = bool(self.client.set(key, token, nx=True, px=expiry_ms))
        try:
            yield mine
        finally:
            if mine and self.client.get(key) == token.encode():
                self.client.delete(key)

    def snapshot(self, queues: set[str]) -> Snapshot:
        keys = sorted({self.prefix + self.channel._q_for_pri(queue, priority)
                       for queue in queues for priority in self.channel.priority_steps})
        with self.client.pipeline(transaction=True) as pipe:
            for key in keys:
                pipe.lrange(key, 0, -1)
            pipe.hgetall(self.prefix + self.channel.unacked_key)
            *lists, unacked = pipe.execute()
        waiting = {_task_id(json.loads(raw)) for raw in chain.from_iterable(lists)}
        taken = defaultdict(list)
        for tag, raw in unacked.items():
            message, _exchange, _routing_key = json.loads(raw)
            taken[_task_id(message)].append(tag.decode())
        return Snapshot(waiting, dict(taken))

    def restore(self, tag: str) -> None:
        self.channel.qos.restore_by_tag(tag)


class FolderQueues:
    """The filesystem transport: a file per waiting message; once read, a message is nowhere."""

    def __init__(self, channel) -> None:
        self.folder = Path(channel.data_folder_in)
        self.lock_path = Path(channel.control_folder) / "synthreg-sweep.lock"

    @contextmanager
    def exclusive(self) -> Iterator[bool]:
        with self.lock_path.open("a") as fh:  # closing it releases the lock, also when we die
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                mine = True
            except BlockingIOError:
                mine = False
            yield mine

    def snapshot(self, queues: set[str]) -> Snapshot:
        waiting = set()
        for path in self.folder.iterdir():  # kombu names them <ms>_<uuid>.<queue>.msg
            if path.name.partition(".")[2].removesuffix(".msg") not in queues:
                continue
            try:
                waiting.add(_task_id(json.loads(path.read_bytes())))
            except (OSError, ValueError):
                continue  # read by a worker meanwhile, or still being written: the next look tells
        return Snapshot(waiting)  # nothing is ever "taken": no restore needed


class UnsupportedBroker(Exception):
    pass


def broker_queues(connection) -> RedisQueues | FolderQueues:
    kind = connection.transport.driver_type
    if kind == "redis":
        return RedisQueues(connection.default_channel)
    if kind == "filesystem":
        return FolderQueues(connection.default_channel)
    raise UnsupportedBroker(f"the sweep cannot look into a {kind} broker, so it cannot tell lost messages; "
                            "use Redis or the filesystem broker")


class Sweeper:
    """One process's sweeps; it remembers the suspects of its last one."""

    def __init__(self) -> None:
        self._suspects: dict[str, tuple] = {}

    def sweep(self) -> Outcome:
        with app.connection_for_write() as connection:
            queues = broker_queues(connection)
            with queues.exclusive() as mine:
                return self._sweep(queues) if mine else Outcome()

    def _sweep(self, queues: RedisQueues | FolderQueues) -> Outcome:
        waiting = jobs_needing_delivery()
        snapshot = queues.snapshot({queue for queue, _ in waiting.values()}) if waiting else Snapshot()
        suspects = {pk: state for pk, (_, state) in waiting.items() if pk not in snapshot.waiting}
        confirmed = [pk for pk, state in suspects.items() if self._suspects.get(pk) == state]
        self._suspects = suspects
        outcome = Outcome(swept=True, suspects=len(suspects))
        for pk in confirmed:
            if tags := snapshot.taken.get(pk):
                for tag in tags:
                    queues.restore(tag)
                outcome.restored += 1
            else:
                service.resend(pk, waiting[pk][0])
                outcome.sent += 1
        if confirmed:
            log.warning("sweep: re-sent %d job(s) with no message on the broker; put back %d taken by a "
                        "worker that is gone", outcome.sent, outcome.restored)
        outcome.tidied = remove_leftovers()
        outcome.expired_uploads = upload_sessions.remove_expired()
        return outcome

    def sweep_quietly(self) -> None:
        """The timer's entry: a sweep that fails (broker or database away) is retried next time."""
        try:
            self.sweep()
        except Exception:
            log.warning("sweep failed; the next one is in %ss", settings.SYNTHREG_SWEEP_SECONDS, exc_info=True)
        finally:
            connections.close_all()  # hold nothing between sweeps (pool processes fork from here)


class SweepStep(bootsteps.StartStopStep):
    """A worker consumer step: a sweep when it connects, then one every SYNTHREG_SWEEP_SECONDS."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, consumer, **kwargs) -> None:
        super().__init__(consumer, **kwargs)
        self.sweeper = Sweeper()
        self.entry = None

    def start(self, consumer) -> None:
        self.sweeper.sweep_quietly()
        self.entry = consumer.timer.call_repeatedly(settings.SYNTHREG_SWEEP_SECONDS, self.sweeper.sweep_quietly)

    def stop(self, consumer) -> None:
        if self.entry is not None:
            self.entry.cancel()
            self.entry = None

    shutdown = stop
