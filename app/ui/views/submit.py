"""Submit: pick a package, say how to run it, see what it may cost, submit it; then follow
your jobs, read their logs, download their results, or cancel them (the jobs panel, in
`jobs_table`)."""

from __future__ import annotations

import shlex
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressBar,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.services.jobs.package import PackageError, load_package
from app.ui import models
from app.ui.bridge import Bridge
from app.ui.partials.accessible import name_controls, tie
from app.ui.partials.problem_line import ProblemLine
from app.ui.problems import BadAmount, parse_amount, problem_text
from app.ui.texts import compare_text, fill, package_warning_text, sentences
from app.ui.views.jobs_table import JobsPanel
from common.units import format_ucpt

ESTIMATE_DELAY_MS = 400
DEFAULT_RUNTIME = "python-3.11"


class SubmitTab(QWidget):
    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        # The package's compare command and its time limit (0 = the server's default).
        self._compare: tuple[tuple[str, ...], int] = ((), 0)
        # The package's rounds and whether it has an aggregate: the estimate covers them.
        self._rounds: tuple[int, bool] = (1, False)
        self._gpus = 0  # the package's GPUs per task (not on the form; priced in the estimate)

        # A path may be typed or pasted (Enter loads it), or a folder or zip dropped on the tab.
        self.package_path = QLineEdit()
        self.package_path.setAcceptDrops(False)  # a dropped file goes to the tab, not as text
        self.package_path.editingFinished.connect(self._package_path_edited)
        self._loaded_package = ""
        self.setAcceptDrops(True)
        self.folder_button = QPushButton()
        self.folder_button.clicked.connect(self._choose_folder)
        self.zip_button = QPushButton()
        self.zip_button.clicked.connect(self._choose_zip)
        package_row = QHBoxLayout()
        package_row.addWidget(self.package_path, 1)
        package_row.addWidget(self.folder_button)
        package_row.addWidget(self.zip_button)

        self.name = QLineEdit()
        self.runtime = QComboBox()
        self.runtime.setEditable(True)
        self.runtime.addItem(DEFAULT_RUNTIME)
        self.command = QLineEdit()
        # Read from hivemind.toml only: how the package judges two results is part of its code.
        self.compare_label = QLabel()
        self.compare_label.setWordWrap(True)
        self.compare_label.setVisible(False)

        self.by_count = QRadioButton()
        self.by_inputs = QRadioButton()
        self._mode = QButtonGroup(self)
        self._mode.addButton(self.by_count)
        self._mode.addButton(self.by_inputs)
        self.by_count.setChecked(True)
        self.task_count = QSpinBox()
        self.task_count.setRange(1, 100_000)
        self.task_count.setValue(1)
        self.inputs_list = QListWidget()
        self.inputs_list.setMaximumHeight(70)
        self.add_inputs_button = QPushButton()
        self.add_inputs_button.clicked.connect(self._add_inputs)
        self.clear_inputs_button = QPushButton()
        self.clear_inputs_button.clicked.connect(self._clear_inputs)
        count_row = QHBoxLayout()
        count_row.addWidget(self.by_count)
        count_row.addWidget(self.task_count)
        count_row.addStretch(1)
        inputs_buttons = QVBoxLayout()
        inputs_buttons.addWidget(self.add_inputs_button)
        inputs_buttons.addWidget(self.clear_inputs_button)
        inputs_row = QHBoxLayout()
        inputs_row.addWidget(self.by_inputs)
        inputs_row.addWidget(self.inputs_list, 1)
        inputs_row.addLayout(inputs_buttons)

        self.cores = _spin(1, 64, 1)
        self.memory = _spin(16, 262_144, 256)
        self.memory.setSingleStep(64)
        self.timeout = _spin(1, 86_400, 60)
        self.replicas = _spin(1, 5, 1)
        self.priority = QDoubleSpinBox()
        self.priority.setRange(0.1, 10.0)
        self.priority.setSingleStep(0.1)
        self.priority.setValue(1.0)
        self.max_cost = QLineEdit()
        self.estimate_label = CostEstimate(self.max_cost.text)

        self.submit_button = QPushButton()
        self.submit_button.clicked.connect(self._submit)
        self.upload_bar = QProgressBar()
        self.upload_bar.setVisible(False)
        self.status_label = ProblemLine()

        self.job_box = QGroupBox()
        form = QFormLayout(self.job_box)
        self.package_label, self.name_label = QLabel(), QLabel()
        self.runtime_label, self.command_label, self.tasks_label = QLabel(), QLabel(), QLabel()
        form.addRow(self.package_label, package_row)
        form.addRow(self.name_label, self.name)
        form.addRow(self.runtime_label, self.runtime)
        form.addRow(self.command_label, self.command)
        form.addRow("", self.compare_label)
        tasks = QVBoxLayout()
        tasks.addLayout(count_row)
        tasks.addLayout(inputs_row)
        form.addRow(self.tasks_label, tasks)

        self.limits_box = QGroupBox()
        limits = QFormLayout(self.limits_box)
        self.cores_label, self.memory_label, self.timeout_label = QLabel(), QLabel(), QLabel()
        self.replicas_label, self.priority_label, self.cost_label = QLabel(), QLabel(), QLabel()
        limits.addRow(self.cores_label, self.cores)
        limits.addRow(self.memory_label, self.memory)
        limits.addRow(self.timeout_label, self.timeout)
        limits.addRow(self.replicas_label, self.replicas)
        limits.addRow(self.priority_label, self.priority)
        limits.addRow(self.cost_label, self.max_cost)
        for label, control in (
            (self.package_label, self.package_path),
            (self.name_label, self.name),
            (self.runtime_label, self.runtime),
            (self.command_label, self.command),
            (self.cores_label, self.cores),
            (self.memory_label, self.memory),
            (self.timeout_label, self.timeout),
            (self.replicas_label, self.replicas),
            (self.priority_label, self.priority),
            (self.cost_label, self.max_cost),
        ):
            tie(label, control)

        # The cost, the Submit button and what happened, across the whole tab: the estimate
        # has room for its sentences at any window size, and a longer one never moves the
        # form (the line keeps room for three lines).
        self.estimate_label.setMinimumHeight(self.fontMetrics().lineSpacing() * 3)
        self.estimate_label.setAlignment(Qt.AlignLeft | Qt.AlignTop)
        submit_row = QHBoxLayout()
        submit_row.addWidget(self.estimate_label, 1)
        submit_row.addWidget(self.upload_bar)
        submit_row.addWidget(self.submit_button, 0, Qt.AlignTop)

        top = QHBoxLayout()
        top.addWidget(self.job_box, 3)
        top.addWidget(self.limits_box, 2)
        self.jobs = JobsPanel(bridge)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(submit_row)
        layout.addWidget(self.status_label)
        layout.addWidget(self.jobs, 1)

        self._estimate_timer = QTimer(self)
        self._estimate_timer.setSingleShot(True)
        self._estimate_timer.setInterval(ESTIMATE_DELAY_MS)
        self._estimate_timer.timeout.connect(self._request_estimate)
        for spin in (self.cores, self.memory, self.timeout, self.replicas, self.task_count):
            spin.valueChanged.connect(self._schedule_estimate)
        self.priority.valueChanged.connect(self._schedule_estimate)
        self.replicas.valueChanged.connect(self._render_compare)
        self.by_count.toggled.connect(self._mode_changed)
        self.max_cost.textChanged.connect(self._schedule_estimate)
        self.max_cost.textChanged.connect(self._form_edited)
        self.command.textChanged.connect(self._form_edited)
        bridge.estimate_ready.connect(self.estimate_label.show_estimate)
        bridge.upload_progress.connect(self._show_upload)
        bridge.submit_finished.connect(self._submitted)
        bridge.account_changed.connect(lambda _account: self._schedule_estimate())
        self.retranslate_ui()
        self._mode_changed()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def retranslate_ui(self) -> None:
        self.job_box.setTitle(self.tr("Job"))
        self.limits_box.setTitle(self.tr("Each task"))
        self.package_label.setText(self.tr("&Package"))
        self.package_path.setPlaceholderText(
            self.tr("A folder or zip with hivemind.toml: choose, paste or drop it here")
        )
        self.folder_button.setText(self.tr("&Folder…"))
        self.zip_button.setText(self.tr("&Zip…"))
        self.name_label.setText(self.tr("&Name"))
        self.runtime_label.setText(self.tr("R&untime"))
        self.command_label.setText(self.tr("Co&mmand"))
        self.command.setPlaceholderText("python3 main.py")
        self.tasks_label.setText(self.tr("Tasks"))
        self.by_count.setText(self.tr("Number of &tasks"))
        self.by_inputs.setText(self.tr("One task per &input file"))
        self.add_inputs_button.setText(self.tr("&Add files…"))
        self.clear_inputs_button.setText(self.tr("Clea&r"))
        self.cores_label.setText(self.tr("&Cores"))
        self.memory_label.setText(self.tr("M&emory"))
        self.memory.setSuffix(" MB")
        self.timeout_label.setText(self.tr("Time &limit"))
        self.timeout.setSuffix(" " + self.tr("s"))
        self.replicas_label.setText(self.tr("Re&plicas"))
        self.replicas.setToolTip(
            self.tr("Run each task on this many computers of different people and compare")
        )
        self.priority_label.setText(self.tr("Pri&ority"))
        self.priority.setPrefix("×")
        self.cost_label.setText(self.tr("Ma&ximum cost (CPT)"))
        self.max_cost.setPlaceholderText(self.tr("the worst case"))
        self.submit_button.setText(self.tr("&Submit"))
        self.task_count.setAccessibleName(self.tr("Number of tasks"))
        self.inputs_list.setAccessibleName(self.tr("Input files"))
        self._render_compare()
        name_controls(self)

    # -- package --------------------------------------------------------------------------

    def _choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Choose a package folder"))
        if folder:
            self.load_package(Path(folder))

    def _choose_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose a package zip"), "", self.tr("Zip files (*.zip)")
        )
        if path:
            self.load_package(Path(path))

    def _package_path_edited(self) -> None:
        text = self.package_path.text().strip()
        if text and text != self._loaded_package:
            self.load_package(Path(text).expanduser())

    @staticmethod
    def _dropped_package(mime) -> Path | None:
        urls = mime.urls() if mime.hasUrls() else []
        if len(urls) != 1 or not urls[0].isLocalFile():
            return None
        path = Path(urls[0].toLocalFile())
        return path if path.is_dir() or path.suffix.lower() == ".zip" else None

    def dragEnterEvent(self, event) -> None:
        if self._dropped_package(event.mimeData()) is not None:
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = self._dropped_package(event.mimeData())
        if path is not None:
            event.acceptProposedAction()
            self.load_package(path)

    def load_package(self, path: Path) -> bool:
        """Fills the form from the package's hivemind.toml; False (and says why) when bad."""
        if not path.exists():
            self.status_label.show_text(
                fill(self.tr("There is no folder or zip at %1."), path), error=True
            )
            return False
        try:
            package = load_package(path)
        except PackageError as exc:
            self.status_label.show_problem(models.Problem(str(exc), "PACKAGE"))
            return False
        spec = package.spec
        self._loaded_package = str(path)
        self.package_path.setText(str(path))
        self.name.setText(spec.name)
        self.runtime.setCurrentText(spec.runtime)
        self.command.setText(shlex.join(spec.command))
        self._compare = (tuple(spec.compare_command), spec.compare_timeout_s or 0)
        self._rounds = (spec.rounds, bool(spec.aggregate_command))
        self._gpus = spec.gpus
        if spec.tasks:
            self.task_count.setValue(spec.tasks)
            self.by_count.setChecked(True)
        self.cores.setValue(spec.cores)
        self.memory.setValue(spec.memory_mb)
        self.timeout.setValue(spec.timeout_s)
        self.replicas.setValue(max(1, spec.replicas))
        self.priority.setValue(spec.priority)
        self._render_compare()
        if spec.max_cost_ucpt:
            self.max_cost.setText(format_ucpt(spec.max_cost_ucpt))
        if package.warnings:  # said in the UI's language, the file's own words behind Details
            self.status_label.show_text(
                lambda: " ".join(package_warning_text(w) for w in package.warnings),
                details="\n".join(package.warnings),
            )
        else:
            self.status_label.clear()
        self._schedule_estimate()
        return True

    def _render_compare(self) -> None:
        command, timeout_s = self._compare
        self.compare_label.setVisible(bool(command))
        if not command:
            self.compare_label.setText("")
            return
        text = compare_text(command, timeout_s)
        if self.replicas.value() == 1:
            text += " " + self.tr(
                "With 1 replica, results are compared only when the server spot-checks one."
            )
        self.compare_label.setText(text)

    def _add_inputs(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, self.tr("Choose input files"))
        self.add_inputs([Path(p) for p in paths])

    def add_inputs(self, paths: list[Path]) -> None:
        for path in paths:
            self.inputs_list.addItem(str(path))
        if paths:
            self.by_inputs.setChecked(True)
        self._schedule_estimate()

    def _clear_inputs(self) -> None:
        self.inputs_list.clear()
        self._schedule_estimate()

    def _mode_changed(self) -> None:
        by_count = self.by_count.isChecked()
        self.task_count.setEnabled(by_count)
        self.inputs_list.setEnabled(not by_count)
        self._schedule_estimate()

    # -- estimate and submit --------------------------------------------------------------

    def job_request(self) -> models.JobRequest:
        """The form as a request; ValueError with a one-line reason when it is incomplete
        (BadAmount, which carries its Problem, for a maximum cost that is no amount)."""
        package = self.package_path.text().strip()
        if not package:
            raise ValueError(self.tr("Choose a package folder or zip first."))
        try:
            command = tuple(shlex.split(self.command.text()))
        except ValueError as exc:
            raise ValueError(fill(self.tr("The command cannot be read: %1"), exc)) from None
        if not command:
            raise ValueError(self.tr("Enter the command that runs each task."))
        inputs = tuple(self.inputs_list.item(i).text() for i in range(self.inputs_list.count()))
        if self.by_inputs.isChecked() and not inputs:
            raise ValueError(self.tr("Add at least one input file, or give a number of tasks."))
        text = self.max_cost.text().strip()
        max_cost = parse_amount(text) if text else 0
        return models.JobRequest(
            package_path=package,
            name=self.name.text().strip() or Path(package).stem,
            runtime=self.runtime.currentText().strip() or DEFAULT_RUNTIME,
            command=command,
            task_count=0 if self.by_inputs.isChecked() else self.task_count.value(),
            input_files=inputs if self.by_inputs.isChecked() else (),
            cores=self.cores.value(),
            memory_mb=self.memory.value(),
            timeout_s=self.timeout.value(),
            replicas=self.replicas.value(),
            priority=round(self.priority.value(), 2),
            max_cost_ucpt=max_cost,
        )

    def task_total(self) -> int:
        if self.by_inputs.isChecked():
            return self.inputs_list.count()
        return self.task_count.value()

    def _schedule_estimate(self) -> None:
        self._estimate_timer.start()

    def _request_estimate(self) -> None:
        if self.task_total() < 1:
            self.estimate_label.show_estimate(-1, "", None)
            return
        self._bridge.estimate(
            cores=self.cores.value(),
            memory_mb=self.memory.value(),
            timeout_s=self.timeout.value(),
            tasks=self.task_total(),
            replicas=self.replicas.value(),
            priority=self.priority.value(),
            # What submitting escrows includes the comparisons the package's command may need.
            compare=bool(self._compare[0]),
            compare_timeout_s=self._compare[1],
            rounds=self._rounds[0],
            aggregate=self._rounds[1],
            gpus=self._gpus,
        )

    def _submit(self) -> None:
        try:
            request = self.job_request()
        except BadAmount as exc:
            self.status_label.show_problem(exc.problem)
            return
        except ValueError as exc:
            self.status_label.show_text(str(exc), error=True)
            return
        self.submit_button.setEnabled(False)
        self.upload_bar.setValue(0)
        self.upload_bar.setVisible(True)
        self.status_label.show_text(lambda: self.tr("Uploading…"))
        self._bridge.submit(request)

    def _show_upload(self, done: int, total: int) -> None:
        self.upload_bar.setMaximum(max(1, total))
        self.upload_bar.setValue(min(done, total))

    def _submitted(self, ok: bool, outcome: str | models.Problem) -> None:
        self.submit_button.setEnabled(True)
        self.upload_bar.setVisible(False)
        if ok:
            self.status_label.show_text(lambda: fill(self.tr("Submitted job %1."), outcome))
        else:
            self.status_label.show_problem(outcome)

    def _form_edited(self) -> None:
        """A problem with the form is over once the user changes it."""
        if self.status_label.is_error:
            self.status_label.clear()


class CostEstimate(QLabel):
    """The cost line: what submitting the job would hold in escrow at most (the server's
    EstimateCost: every task, replica and comparison at its whole time limit), and whether
    the submitter's own maximum cost is enough for it. `max_cost_text` returns what the
    submitter typed as their maximum (empty = none), read each time the line is rendered."""

    def __init__(self, max_cost_text: Callable[[], str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self._max_cost_text = max_cost_text
        self.worst_case_ucpt: int | None = None
        self.funded_from = ""
        self.problem: models.Problem | None = None

    def show_estimate(self, ucpt: int, funded_from: str, problem: models.Problem | None) -> None:
        """The bridge's estimate_ready: the worst case in ucpt (-1 = none) and the balance
        that would hold it, or a problem."""
        self.worst_case_ucpt = ucpt if ucpt >= 0 else None
        self.funded_from = funded_from
        self.problem = problem
        self.refresh()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.refresh()
        super().changeEvent(event)

    def refresh(self) -> None:
        """Writes the line again (a new estimate, an edited maximum, another language)."""
        if self.problem is not None:
            text = fill(self.tr("No estimate: %1"), problem_text(self.problem))
            self.setToolTip(self.problem.raw)
        elif self.worst_case_ucpt is None:
            text = ""
        else:
            text = fill(
                self.tr(
                    "Holds up to %1 until the job ends: the worst case, where every task, replica "
                    "and comparison uses its whole time limit. What is not spent is refunded."
                ),
                models.cpt_short(self.worst_case_ucpt),
            )
            text = sentences(text, self._funding_remark())
            text = sentences(text, self._max_cost_remark(self.worst_case_ucpt))
        self.setText(text)

    def _funding_remark(self) -> str:
        """Starter credit and CPT apart: which one would pay, when it is not plain CPT."""
        if self.funded_from == "starter":
            return self.tr(
                "Paid from your starter credit: the job runs only on capacity no paid job wants."
            )
        if self.funded_from == "cpt":
            return ""
        return self.tr(
            "Neither your CPT nor your starter credit covers it: the server will refuse."
        )

    def _max_cost_remark(self, worst_case_ucpt: int) -> str:
        typed = self._max_cost_text().strip()
        try:
            chosen = parse_amount(typed) if typed else 0
        except BadAmount:
            return self.tr("The maximum cost is not a valid amount.")
        if chosen and chosen < worst_case_ucpt:
            return self.tr("Your maximum is below that: the server will refuse.")
        return ""


def _spin(low: int, high: int, value: int) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    return spin
