"""What went wrong, said for people in the UI's language: what happened, and what to do.

A `models.Problem` carries the server's reason (server/errors.py names them) or the app's own
(UNREACHABLE, BAD_AMOUNT...), the values the sentence needs, and the raw English text, which
goes behind a "Details" disclosure and into the log, never in place of the sentence.
"""

from __future__ import annotations

import re

from PySide6.QtCore import QCoreApplication

from app.ui import models
from app.ui.texts import fill, sentences
from common.units import parse_cpt

translate = QCoreApplication.translate


def problem_parts(problem: models.Problem) -> tuple[str, str]:
    """(what happened, what to do) — the second may be empty."""
    reason, detail = problem.reason, problem.detail
    server = problem.server or translate("Problem", "the server")
    if problem.unreachable:
        return (
            fill(translate("Problem", "Can't reach the server at %1."), server),
            translate("Problem", "Check the address or your connection."),
        )
    if reason == "WRONG_LOGIN":
        return translate("Problem", "Wrong username or password."), translate(
            "Problem", "Check both and try again."
        )
    if reason == "LOGIN_LOCKED":
        return (
            translate(
                "Problem",
                "Too many wrong passwords: signing in to this account is paused for a while.",
            ),
            fill(translate("Problem", "Try again in %1."), _wait_text(detail("retry_after_s"))),
        )
    if reason == "USERNAME_TAKEN":
        return fill(
            translate("Problem", "The username %1 is taken."), detail("username")
        ), translate("Problem", "Choose another.")
    if reason == "INVALID_USERNAME":
        return (
            translate("Problem", "That username cannot be used."),
            translate("Problem", "Use 3 to 32 letters, digits or underscores."),
        )
    if reason == "PASSWORD_TOO_SHORT":
        return (
            translate("Problem", "The password is too short."),
            fill(translate("Problem", "Use at least %1 characters."), detail("min_chars", "?")),
        )
    if reason == "PASSWORD_TOO_LONG":
        return (
            translate("Problem", "The password is too long."),
            fill(translate("Problem", "Use at most %1 characters."), detail("max_chars", "?")),
        )
    if reason == "TOO_MANY_SIGNUPS":
        return (
            translate("Problem", "Too many new accounts were made from your network."),
            fill(translate("Problem", "Try again in %1."), _wait_text(detail("retry_after_s"))),
        )
    if reason in ("NOT_SIGNED_IN", "SESSION_ENDED") or problem.status == "UNAUTHENTICATED":
        return (
            fill(translate("Problem", "You are not signed in to %1."), server),
            translate("Problem", "Sign in on the Account tab."),
        )
    if reason == "INSUFFICIENT_BALANCE":
        starter = detail("starter_ucpt")
        if starter not in ("", "0"):  # starter credit pays only for a whole job
            said = fill(
                translate(
                    "Problem",
                    "This job may cost up to %1; you have %2, and %3 of starter credit, which "
                    "pays only for a whole job.",
                ),
                _amount(detail("need_ucpt")),
                _amount(detail("have_ucpt")),
                _amount(starter),
            )
        else:
            said = fill(
                translate("Problem", "This job may cost up to %1, and you have %2."),
                _amount(detail("need_ucpt")),
                _amount(detail("have_ucpt")),
            )
        return (
            said,
            translate(
                "Problem",
                "Run fewer tasks, give them less time or fewer replicas, or earn CPT by "
                "sharing this computer.",
            ),
        )
    if reason == "MAX_COST_TOO_LOW":
        return (
            fill(
                translate("Problem", "Your maximum cost is below what this job may need: %1."),
                _amount(detail("worst_case_ucpt")),
            ),
            translate("Problem", "Raise the maximum cost, or leave it empty."),
        )
    if reason == "UNKNOWN_RUNTIME":
        known = detail("known")
        return (
            fill(translate("Problem", "The server has no runtime called %1."), detail("runtime")),
            fill(translate("Problem", "Runtimes it has: %1."), known) if known else "",
        )
    if reason == "TOO_MANY_ACTIVE_JOBS":
        return (
            fill(
                translate(
                    "Problem", "You already have %1 unfinished jobs, the most the server allows."
                ),
                detail("limit", "?"),
            ),
            translate("Problem", "Wait for one to finish, or cancel one."),
        )
    if reason == "NODE_BANNED":
        return (
            translate("Problem", "The server no longer accepts work from this computer."),
            translate("Problem", "Ask the people who run the network why."),
        )
    if reason == "PLAINTEXT_REFUSED":
        return (
            fill(
                translate("Problem", "HiveMind does not send your password unencrypted to %1."),
                server,
            ),
            translate(
                "Problem", "Turn on TLS, or check the address with the people who run the network."
            ),
        )
    if reason == "NOT_HIVEMIND":
        return (
            fill(
                translate("Problem", "Something answers at %1, but it is not a HiveMind server."),
                server,
            ),
            translate("Problem", "Check the address and the port."),
        )
    if reason == "CA_FILE_UNREADABLE":
        return translate("Problem", "The certificate file cannot be read."), translate(
            "Problem", "Choose another file."
        )
    if reason == "BAD_ADDRESS":
        return (
            translate("Problem", "That is not a server address."),
            translate("Problem", "Write it as HOST:PORT, for example hive.example.org:50051."),
        )
    if reason == "BAD_AMOUNT":
        return (
            fill(translate("Problem", "%1 is not an amount of CPT."), detail("text")),
            translate("Problem", "Write it as a number, for example 12.5."),
        )
    if reason == "DOCKER_UNAVAILABLE":
        return (
            translate(
                "Problem",
                "Docker is not running on this computer, so tasks cannot run in their sandbox.",
            ),
            translate("Problem", "Start Docker (or install it), then turn sharing on again."),
        )
    if reason == "PACKAGE":
        return translate("Problem", "This package cannot be used."), translate(
            "Problem", "See the details, fix it, and choose it again."
        )
    return _by_status(problem)


def _by_status(problem: models.Problem) -> tuple[str, str]:
    status = problem.status
    if status == "PERMISSION_DENIED":
        return translate("Problem", "The server does not allow this."), ""
    if status == "NOT_FOUND":
        return translate("Problem", "The server does not know this (it may have been removed)."), ""
    if status == "RESOURCE_EXHAUSTED":
        return translate("Problem", "A limit of the server was reached."), translate(
            "Problem", "Try again later."
        )
    if status in ("INTERNAL", "UNKNOWN", "DATA_LOSS", "UNIMPLEMENTED"):
        return (
            translate("Problem", "The server ran into a problem."),
            translate(
                "Problem", "Try again later. If it goes on, tell the people who run the network."
            ),
        )
    if status in ("INVALID_ARGUMENT", "FAILED_PRECONDITION", "OUT_OF_RANGE", "ALREADY_EXISTS"):
        return translate("Problem", "The server refused this."), translate(
            "Problem", "The details say why."
        )
    if status == "CANCELLED":
        return translate("Problem", "The request was interrupted."), translate(
            "Problem", "Try again."
        )
    return translate("Problem", "Something went wrong."), translate(
        "Problem", "The details say what."
    )


def problem_text(problem: models.Problem) -> str:
    """The whole sentence: what happened, then what to do."""
    what, todo = problem_parts(problem)
    return sentences(what, todo)


def _amount(ucpt: str) -> str:
    try:
        return models.cpt_short(int(ucpt))
    except ValueError:
        return "?"


def _wait_text(seconds: str) -> str:
    try:
        wait = max(1, int(seconds))
    except ValueError:
        return translate("Problem", "a while")
    if wait < 90:
        return fill(translate("Problem", "%1 s"), wait)
    return fill(translate("Problem", "%1 min"), (wait + 59) // 60)


class BadAmount(ValueError):
    """Typed text that is not an amount of CPT; `problem` says so for people."""

    def __init__(self, text: str, raw: str) -> None:
        super().__init__(raw)
        self.problem = models.Problem(raw=raw, reason="BAD_AMOUNT", details=(("text", text),))


def parse_amount(text: str) -> int:
    """A CPT amount as typed, into micro-CPT: "12.5", "12,5" (a decimal comma), " 3 ".
    BadAmount when it is not one."""
    cleaned = re.sub(r"\s", "", text)
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    try:
        return parse_cpt(cleaned)
    except ValueError as exc:
        raise BadAmount(text.strip(), str(exc)) from None
