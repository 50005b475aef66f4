"""Sentences built from app state, in the user's current language: sharing states, pause
reasons, job states, recent events. Built when shown, never stored, so switching the
language re-renders everything."""

from __future__ import annotations

import re
import shlex
from datetime import datetime

from PySide6.QtCore import QCoreApplication, QLocale, QObject

from app.ui import models


def fill(template: str, *values: object) -> str:
    """Qt-style placeholders: fill("%1 of %2", a, b). One pass, so a value that contains
    "%2" is never substituted again."""
    return re.sub(
        r"%(\d)",
        lambda m: (
            str(values[int(m.group(1)) - 1]) if 0 < int(m.group(1)) <= len(values) else m.group(0)
        ),
        template,
    )


def sentences(first: str, second: str) -> str:
    """Two sentences as one text: a space between them, none after a full-width full stop
    (Chinese runs its sentences on)."""
    if not second:
        return first
    return first + second if first.endswith("。") else f"{first} {second}"


def state_text(state: models.SharingState) -> str:
    """The headline for a sharing state, e.g. "Paused: you are using this computer"."""
    translate = QCoreApplication.translate
    if state.state == models.SHARING:
        if state.running:
            return _counted().tasks_running(state.running)
        return translate("SharingState", "Sharing: waiting for work")
    if state.state == models.PAUSED:
        return paused_text(state.reason)
    if state.state == models.OFFLINE:
        return fill(translate("SharingState", "Offline: %1"), reason_text(state.reason))
    if state.state == models.STOPPING:
        return _counted().finishing(state.running)
    if state.state == models.ERROR:
        from app.ui.problems import problem_text

        why = problem_text(state.problem) if state.problem is not None else state.reason
        return fill(translate("SharingState", "Stopped by an error: %1"), why)
    return translate("SharingState", "Not sharing")


def short_state_text(state: models.SharingState) -> str:
    """One or two words for the tray tooltip's first line."""
    translate = QCoreApplication.translate
    return {
        models.SHARING: translate("SharingState", "Sharing"),
        models.PAUSED: translate("SharingState", "Paused"),
        models.OFFLINE: translate("SharingState", "Offline"),
        models.ERROR: translate("SharingState", "Error"),
        models.STOPPING: translate("SharingState", "Stopping"),
        models.OFF: translate("SharingState", "Not sharing"),
    }[state.state]


def paused_text(reason: str) -> str:
    """ "Paused: …" for a policy reason. The user's own pause is one sentence of its own, so
    a language need not say "paused" twice."""
    translate = QCoreApplication.translate
    if reason.startswith(MANUAL_UNTIL):
        until = reason.removeprefix(MANUAL_UNTIL)
        return fill(translate("SharingState", "Paused: you paused sharing until %1"), until)
    if reason == "manual pause":
        return translate("SharingState", "Paused: you paused sharing")
    return fill(translate("SharingState", "Paused: %1"), reason_text(reason))


# Reasons that carry a time (see app/ui/sharing.py).
MANUAL_UNTIL = "manual pause until "
SCHEDULE_UNTIL = "outside schedule until "


def reason_text(reason: str) -> str:
    """A policy or connection reason in the user's language (unknown reasons as they are)."""
    translate = QCoreApplication.translate
    if reason.startswith(MANUAL_UNTIL):
        until = reason.removeprefix(MANUAL_UNTIL)
        return fill(translate("PauseReason", "you paused sharing until %1"), until)
    if reason.startswith(SCHEDULE_UNTIL):
        opens = when_text(reason.removeprefix(SCHEDULE_UNTIL))
        return fill(
            translate("PauseReason", "outside your sharing schedule; the next window opens %1"),
            opens,
        )
    known = {
        "manual pause": translate("PauseReason", "you paused sharing"),
        "user active": translate("PauseReason", "you are using this computer"),
        "on battery": translate("PauseReason", "running on battery"),
        "outside schedule": translate("PauseReason", "outside your sharing schedule"),
        "not signed in": translate("PauseReason", "sign in on the Account tab to share"),
        "server unreachable": translate("PauseReason", "cannot reach the server"),
        "starting": translate("PauseReason", "starting"),
        "idle detection unavailable": translate(
            "PauseReason", "this computer cannot tell whether you are using it"
        ),
    }
    return known.get(reason, reason)


def when_text(iso: str) -> str:
    """A coming moment, local: "18:00" today, else "Mon 18:00" (the day in the UI's
    language)."""
    try:
        when = datetime.fromisoformat(iso).astimezone()
    except ValueError:
        return iso
    clock = f"{when:%H:%M}"
    if when.date() == datetime.now().astimezone().date():
        return clock
    day = QLocale().dayName(when.isoweekday(), QLocale.ShortFormat)
    return f"{day} {clock}"


def gpu_reason_text(reason: str) -> str:
    """Why the GPU switch is off, in the user's language; the service's own words (which
    carry technical detail) go to the tooltip."""
    translate = QCoreApplication.translate
    if reason.startswith("no NVIDIA container runtime"):
        return translate("GpuReason", "no NVIDIA container runtime is installed")
    if reason.startswith("cannot reach the Docker daemon"):
        return translate("GpuReason", "Docker is not running")
    return reason


def job_state_text(state: str) -> str:
    """A job's or a task's state, in the UI's language."""
    translate = QCoreApplication.translate
    return {
        "pending": translate("JobState", "waiting"),
        "leased": translate("JobState", "starting"),
        "running": translate("JobState", "running"),
        "done": translate("JobState", "done"),
        "failed": translate("JobState", "failed"),
        "cancelled": translate("JobState", "cancelled"),
    }.get(state, state)


def task_error_text(error: str) -> str:
    """Why a task failed, as the worker said it (in English), in the UI's language; a reason
    it does not know stays as it is."""
    translate = QCoreApplication.translate
    known = [
        (
            r"exited with code (-?\d+) \(killed by signal (\d+)\)",
            translate("TaskError", "exited with code %1 (killed by signal %2)"),
        ),
        (r"exited with code (-?\d+)", translate("TaskError", "exited with code %1")),
        (r"timed out after (\d+) s", translate("TaskError", "timed out after %1 s")),
        (
            r"killed: out of memory \(limit (\d+) MB\)",
            translate("TaskError", "killed: out of memory (limit %1 MB)"),
        ),
        (
            r"killed: disk limit exceeded \((\d+) MB\)",
            translate("TaskError", "killed: disk limit exceeded (%1 MB)"),
        ),
        (r"cancelled", translate("TaskError", "cancelled")),
        (
            r"worker stopped before the task finished; it will run elsewhere",
            translate(
                "TaskError", "this computer stopped before the task finished; it runs elsewhere"
            ),
        ),
        (
            r"runtime image (\S+) is not present on this machine",
            translate("TaskError", "the runtime image %1 is not on this computer"),
        ),
        (
            r"the task container vanished before it reported an exit status",
            translate("TaskError", "the task's container disappeared before it ended"),
        ),
        (
            r"cannot reach the Docker daemon: (.*)",
            translate("TaskError", "Docker is not running (%1)"),
        ),
        (
            r"result not accepted: (.*)",
            translate("TaskError", "the server did not accept the result: %1"),
        ),
        (
            r"cannot prepare the task: (.*)",
            translate("TaskError", "the task could not be prepared: %1"),
        ),
        (
            r"cannot fetch the task's files: (.*)",
            translate("TaskError", "the task's files could not be fetched: %1"),
        ),
    ]
    prefix = "compare command: "
    if error.startswith(prefix):
        rest = task_error_text(error.removeprefix(prefix))
        return fill(translate("TaskError", "compare command: %1"), rest)
    for pattern, template in known:
        match = re.fullmatch(pattern, error.strip())
        if match:
            return fill(template, *match.groups())
    return error


def package_warning_text(warning: str) -> str:
    """A warning about a package's hivemind.toml, in the UI's language."""
    translate = QCoreApplication.translate
    match = re.fullmatch(r".*: unknown key \[(job|resources)\] (\S+) ignored", warning)
    if match:
        return fill(
            translate(
                "PackageWarning",
                "hivemind.toml: %2 in [%1] is not a setting HiveMind knows; it is left out.",
            ),
            match.group(1),
            match.group(2),
        )
    match = re.fullmatch(r".*: unknown table \[(\S+)\] ignored", warning)
    if match:
        return fill(
            translate(
                "PackageWarning",
                "hivemind.toml: the table [%1] is not one HiveMind knows; it is left out.",
            ),
            match.group(1),
        )
    return warning


def log_text(text: str) -> str:
    """A task's stored log, with the marker of what was left out in the UI's language."""
    translate = QCoreApplication.translate
    return re.sub(
        r"\[\.\.\. (\d+) bytes of log dropped \.\.\.\]",
        lambda match: fill(
            translate("TaskLog", "[… %1 bytes of the log left out here …]"), match.group(1)
        ),
        text,
    )


def duration_text(seconds: int) -> str:
    minutes, secs = divmod(max(0, int(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def activity_text(event: models.ActivityEvent) -> str:
    """The line shown in "recent events" (and in notifications) for an event."""
    translate = QCoreApplication.translate
    job = event.job_id[:12]
    task = str(event.task_index)
    amount = models.cpt_short(event.amount_ucpt)
    if event.comparison:
        template = _comparison_template(event)
        if template is not None:
            return fill(template, job, task, event.detail, amount)
    elif event.task_index == AGGREGATE_INDEX:
        template = _aggregate_template(event)
        if template is not None:
            return fill(template, job, task, event.detail, amount)
    texts = {
        "task_started": translate("Activity", "Started task %2 of job %1"),
        "task_finished": translate("Activity", "Finished task %2 of job %1"),
        "task_failed": translate("Activity", "Task %2 of job %1 failed: %3"),
        "task_returned": translate(
            "Activity", "Handed back task %2 of job %1: another computer runs it"
        ),
        "payout": translate("Activity", "Earned %4 for task %2 of job %1"),
        "paused": translate("Activity", "Paused: %3"),
        "resumed": translate("Activity", "Resumed sharing"),
        "error": translate("Activity", "Problem: %3"),
        "registered": translate("Activity", "This computer joined the network as node %3"),
        "recovered": translate("Activity", "In contact with the server again"),
        "sharing_on": translate("Activity", "Sharing turned on"),
        "sharing_off": translate("Activity", "Sharing turned off"),
        "signed_in": translate("Activity", "Signed in as %3"),
        "signed_out": translate("Activity", "Signed out"),
        "job_submitted": translate("Activity", "Submitted job %1"),
        "job_finished": translate("Activity", "Your job %1 is %3"),
        "results_downloaded": translate("Activity", "Results of job %1 saved to %3"),
    }
    detail = event.detail
    if event.problem is not None:
        from app.ui.problems import problem_text

        detail = problem_text(event.problem)
    if event.kind == "paused":
        return paused_text(detail)
    if event.kind == "task_failed" and event.problem is None:
        detail = task_error_text(detail)
    elif event.kind == "job_finished":
        detail = job_state_text(detail)
    return fill(texts.get(event.kind, "%3"), job, task, detail, amount)


# A finished comparison's detail: the worker's verdict (app/services/worker/report.py).
EQUIVALENT_VERDICT = "results equivalent"
DIFFERENT_VERDICT = "results differ"


def _comparison_template(event: models.ActivityEvent) -> str | None:
    """The sentence for a comparison attempt's event, None for kinds that read the same as a
    task's. Whole sentences per verdict, so each language words them its own way."""
    translate = QCoreApplication.translate
    if event.kind == "task_finished":
        verdicts = {
            EQUIVALENT_VERDICT: translate(
                "Activity", "Compared results of task %2 of job %1: equivalent"
            ),
            DIFFERENT_VERDICT: translate(
                "Activity", "Compared results of task %2 of job %1: different"
            ),
        }
        return verdicts.get(
            event.detail, translate("Activity", "Compared results of task %2 of job %1")
        )
    return {
        "task_started": translate("Activity", "Comparing results of task %2 of job %1…"),
        "task_failed": translate("Activity", "Comparing results of task %2 of job %1 failed: %3"),
        "payout": translate("Activity", "Earned %4 for comparing results of task %2 of job %1"),
    }.get(event.kind)


# A round's aggregate (server/jobs/rounds.py) is leased as the task with this index.
AGGREGATE_INDEX = -1


def _aggregate_template(event: models.ActivityEvent) -> str | None:
    """The sentence for an event of a round's aggregate, None for kinds that read the same."""
    translate = QCoreApplication.translate
    return {
        "task_started": translate("Activity", "Started the aggregate of job %1"),
        "task_finished": translate("Activity", "Finished the aggregate of job %1"),
        "task_failed": translate("Activity", "The aggregate of job %1 failed: %3"),
        "payout": translate("Activity", "Earned %4 for the aggregate of job %1"),
    }.get(event.kind)


def compare_text(command: tuple[str, ...] | list[str], timeout_s: int) -> str:
    """A job's compare setting for people: "Compare: python3 compare.py (60 s)"; a time limit
    of 0 means the server's default (a package that names none, before it is submitted)."""
    translate = QCoreApplication.translate
    line = shlex.join(command)
    if timeout_s > 0:
        return fill(translate("JobSettings", "Compare: %1 (%2 s)"), line, timeout_s)
    return fill(translate("JobSettings", "Compare: %1 (the server's default time limit)"), line)


def payouts_notification(tasks: int, comparisons: int, amount_ucpt: int) -> str:
    """The summed payout notification: "Earned 1.2 CPT from 3 tasks and 2 comparisons",
    naming only the kinds of work that were paid (a comparison judges two results of a task,
    it does not run the task)."""
    counted = _counted()
    amount = models.cpt_short(amount_ucpt)
    if tasks and comparisons:
        return fill(
            QCoreApplication.translate("Activity", "Earned %1 from %2 and %3"),
            amount,
            counted.tasks(tasks),
            counted.comparisons(comparisons),
        )
    if comparisons:
        return fill(counted.earned_from_comparisons(comparisons), amount)
    return fill(counted.earned_from_tasks(tasks), amount)


class Counted(QObject):
    """Sentences with a count (plural forms). lupdate only marks `self.tr(text, "", n)` as
    numerus, so they live in a QObject."""

    def tasks_running(self, count: int) -> str:
        return self.tr("Sharing: %n task(s) running", "", count)

    def finishing(self, count: int) -> str:
        return self.tr("Stopping: finishing %n task(s) first…", "", count)

    def earned_from_tasks(self, count: int) -> str:
        return self.tr("Earned %1 from %n task(s)", "", count)

    def earned_from_comparisons(self, count: int) -> str:
        return self.tr("Earned %1 from %n comparison(s)", "", count)

    def tasks(self, count: int) -> str:
        return self.tr("%n task(s)", "", count)

    def comparisons(self, count: int) -> str:
        return self.tr("%n comparison(s)", "", count)


_COUNTED: list[Counted] = []


def _counted() -> Counted:
    if not _COUNTED:
        _COUNTED.append(Counted())
    return _COUNTED[0]
