"""The embedded Celery broker: kombu's filesystem transport, made safe to share.

kombu writes a message by creating its file under the final name and then
writing the body into it. A worker polling the folder in between takes the
empty file, fails to decode it, and Celery stops the whole worker as an
unrecoverable error: every later job stays queued. Under load that window
is wide enough to hit.

Here a message is written under a name no consumer looks at and renamed to
its final name once whole, so a consumer only ever sees complete files.
Should an unreadable file still turn up (copied in by hand, a disk full
while writing), the consumer drops it with a warning and goes on.

Selected by ``CELERY_BROKER_TRANSPORT`` when no Redis is configured.
"""

from __future__ import annotations

import contextlib
import logging
import os
import uuid
from queue import Empty
from time import monotonic
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps

logger = logging.getLogger("dockpilot.jobs.broker")

# A consumer takes the files whose name, after the first dot, is
# "<queue>.msg"; one being written ends in this suffix, so it is never taken.
PARTIAL_SUFFIX = ".part"
# How many unreadable files one poll may drop before it reports the queue
# empty, so that a folder full of them cannot keep a worker in one call.
MAX_DROPPED_PER_POLL = 100


# Both methods keep the signatures of kombu's filesystem channel, which
# already differ from those of its virtual base (hence the ignores).
class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Write the message whole under a hidden name, then show it at once."""
        # The time prefix keeps kombu's order: consumers sort file names.
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + PARTIAL_SUFFIX
        try:
            with open(partial, "wb") as handle:
                handle.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            _remove_quietly(partial)
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc

    def _get(self, queue: str) -> Any:  # type: ignore[override]
        """The next message of ``queue``; an unreadable file is dropped."""
        for _ in range(MAX_DROPPED_PER_POLL):
            try:
                return super()._get(queue)
            except ValueError:
                # kombu has already taken the file out of the folder.
                logger.warning("dropped an unreadable message file of queue %s", queue)
        raise Empty()


class Transport(filesystem.Transport):
    Channel = Channel


def _remove_quietly(path: str) -> None:
    with contextlib.suppress(OSError):
        os.remove(path)
