"""Words our scripts write into pages, translated on the server.

The pages' scripts look a text up by its English wording (``DockPilot.t``);
the table comes with every page as a JSON data block, which the Content
Security Policy allows since it is never run.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

# Each wording written out, so that makemessages finds it.
JS_STRINGS = {
    "Pause": _("Pause"),
    "Resume": _("Resume"),
    "Following live.": _("Following live."),
    "The stream ended.": _("The stream ended."),
    "The container is not running.": _("The container is not running."),
    "Live: one sample a second, the last two minutes.": _(
        "Live: one sample a second, the last two minutes."
    ),
    "no network": _("no network"),
    "CPU": _("CPU"),
    "used": _("used"),
    "in": _("in"),
    "out": _("out"),
    "read": _("read"),
    "write": _("write"),
    "of": _("of"),
    "Connected.": _("Connected."),
    "Disconnected.": _("Disconnected."),
    "Connecting…": _("Connecting…"),
    "The shell exited (code %s).": _("The shell exited (code %s)."),
    "queued": _("queued"),
    "running": _("running"),
    "succeeded": _("succeeded"),
    "failed": _("failed"),
    "errored": _("errored"),
    "canceled": _("canceled"),
    # States of Compose projects and their services (also shown by templates).
    "new": _("new"),
    "partial": _("partial"),
    "finished": _("finished"),
    "stopped": _("stopped"),
    "down": _("down"),
}
