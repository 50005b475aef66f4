"""The submitter's jobs: a table with a progress bar per job and the actions on the selected
job (logs, results, cancel); a job with rounds also shows its round and a chart of the metrics
of each round."""

from __future__ import annotations

import shlex

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui import models
from app.ui.bridge import Bridge
from app.ui.confirm import Choice, Question
from app.ui.partials.charts import RoundChart
from app.ui.partials.problem_line import ProblemLine
from app.ui.problems import problem_text
from app.ui.texts import compare_text, fill, job_state_text, log_text, task_error_text

COLUMNS = 6
PROGRESS_COLUMN = 3
COST_COLUMN = 4


class JobsPanel(QGroupBox):
    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.rows: list[models.JobRow] = []
        self.question: Question | None = None  # an open confirmation
        # kind ("saved", "error", "log_error"), job id, folder, problem
        self._status: tuple[str, str, str, models.Problem | None] = ("", "", "", None)

        self.table = QTableWidget(0, COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Stretch)
        for column in (2, 4, 5):  # state, cost, time: as wide as their text
            header.setSectionResizeMode(column, QHeaderView.ResizeToContents)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.ElideMiddle)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.currentCellChanged.connect(lambda *_: self._update_buttons())

        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(bridge.refresh_jobs)
        self.logs_button = QPushButton()
        self.logs_button.clicked.connect(self._open_logs)
        self.download_button = QPushButton()
        self.download_button.clicked.connect(self._download)
        self.cancel_button = QPushButton()
        self.cancel_button.clicked.connect(self._cancel)
        self.status_label = ProblemLine()
        # Settings of the selected job that the table has no column for (its compare command).
        self.detail_label = QLabel()
        self.detail_label.setWordWrap(True)
        self.detail_label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.detail_label.setVisible(False)
        self.round_chart = RoundChart()
        self.round_chart.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        for button in (
            self.refresh_button,
            self.logs_button,
            self.download_button,
            self.cancel_button,
        ):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table)
        layout.addWidget(self.detail_label)
        layout.addWidget(self.round_chart)
        layout.addLayout(buttons)

        bridge.jobs_loaded.connect(self.show_jobs)
        bridge.job_log_loaded.connect(self._show_log)
        bridge.job_rounds_loaded.connect(self._show_rounds)
        bridge.results_downloaded.connect(self._results_saved)
        self.retranslate_ui()
        self._update_buttons()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def retranslate_ui(self) -> None:
        self.setTitle(self.tr("Your jobs"))
        self.table.setHorizontalHeaderLabels(
            [
                self.tr("Name"),
                self.tr("Job"),
                self.tr("State"),
                self.tr("Progress"),
                self.tr("Cost"),
                self.tr("Submitted"),
            ]
        )
        self.refresh_button.setText(self.tr("Refresh"))
        self.logs_button.setText(self.tr("Open lo&gs"))
        self.download_button.setText(self.tr("&Download results…"))
        self.cancel_button.setText(self.tr("Cancel &job"))
        self.table.setAccessibleName(self.tr("Your jobs"))
        self.round_chart.title = self.tr("Metrics per round")
        self.show_jobs(self.rows)
        self._render_status()

    def selected_job(self) -> models.JobRow | None:
        """The job of the selected row, else of the row with the keyboard focus."""
        rows = self.table.selectionModel().selectedRows()
        row = rows[0].row() if rows else self.table.currentRow()
        if not 0 <= row < len(self.rows):
            return None
        return self.rows[row]

    def select_job(self, job_id: str) -> bool:
        for row, job in enumerate(self.rows):
            if job.job_id == job_id:
                self.table.selectRow(row)
                return True
        return False

    def show_jobs(self, jobs: list[models.JobRow]) -> None:
        selected = self.selected_job()
        self.rows = list(jobs)
        self.table.setRowCount(len(jobs))
        for row, job in enumerate(jobs):
            cost = fill(
                self.tr("%1 of at most %2"),
                models.cpt_short(job.cost_ucpt),
                models.cpt_short(job.max_cost_ucpt),
            )
            values = [
                job.name,
                job.job_id,
                job_state_text(job.state),
                "",
                cost,
                models.local_time(job.created_at),
            ]
            exact = fill(
                self.tr("%1 of at most %2"),
                models.cpt(job.cost_ucpt),
                models.cpt(job.max_cost_ucpt),
            )
            for column, value in enumerate(values):
                if column != PROGRESS_COLUMN:
                    item = QTableWidgetItem(value)
                    item.setToolTip(exact if column == COST_COLUMN else "")
                    self.table.setItem(row, column, item)
            bar = self.table.cellWidget(row, PROGRESS_COLUMN)
            if not isinstance(bar, QProgressBar):
                bar = QProgressBar()
                self.table.setCellWidget(row, PROGRESS_COLUMN, bar)
            bar.setMaximum(max(1, job.tasks_total))
            bar.setValue(job.tasks_done + job.tasks_failed)
            bar.setFormat(fill(self.tr("%1 of %2 tasks"), job.tasks_done, job.tasks_total))
        if selected is not None:
            self.select_job(selected.job_id)
        self._update_buttons()

    def _update_buttons(self) -> None:
        job = self.selected_job()
        self.logs_button.setEnabled(job is not None)
        self.download_button.setEnabled(job is not None and job.tasks_done > 0)
        self.cancel_button.setEnabled(job is not None and not job.finished)
        # A disabled button says why (its tooltip shows even while it is disabled).
        choose = self.tr("Select a job in the list first.") if job is None else ""
        self.logs_button.setToolTip(choose)
        self.download_button.setToolTip(
            choose or ("" if job.tasks_done else self.tr("No task of this job has finished yet."))
        )
        self.cancel_button.setToolTip(
            choose or (self.tr("This job has ended.") if job.finished else "")
        )
        self._render_detail(job)

    def _render_detail(self, job: models.JobRow | None) -> None:
        lines = []
        if job is not None and job.compare_command:
            lines.append(compare_text(job.compare_command, job.compare_timeout_s))
        if job is not None and job.has_rounds:
            lines.append(
                fill(
                    self.tr("Round %1 of %2; aggregate: %3"),
                    job.current_round + 1,
                    job.rounds,
                    shlex.join(job.aggregate_command),
                )
            )
            self._bridge.load_job_rounds(job.job_id)  # the chart follows when they arrive
        else:
            self.round_chart.setVisible(False)
        self.detail_label.setText("\n".join(lines))
        self.detail_label.setVisible(bool(lines))

    def _show_rounds(self, job_id: str, rounds: list[models.RoundRow]) -> None:
        job = self.selected_job()
        if job is None or job.job_id != job_id:
            return
        measured = [(r.round, dict(r.metrics)) for r in rounds if r.metrics]
        self.round_chart.set_rounds(measured)
        self.round_chart.setVisible(bool(measured))

    def _open_logs(self) -> None:
        job = self.selected_job()
        if job is not None:
            self._bridge.load_job_log(job.job_id)

    def _show_log(
        self, job_id: str, logs: list[models.TaskLog], problem: models.Problem | None
    ) -> None:
        if problem is not None:
            self._status = ("log_error", job_id, "", problem)
            self._render_status()
            return
        dialog = LogDialog(job_id, logs, self)
        dialog.setModal(False)
        dialog.show()
        self.log_dialog = dialog

    def _download(self) -> None:
        job = self.selected_job()
        if job is None:
            return
        folder = QFileDialog.getExistingDirectory(self, self.tr("Save results to"))
        if folder:
            self._bridge.download_results(job.job_id, folder)

    def _results_saved(self, job_id: str, folder: str, problem: models.Problem | None) -> None:
        self._status = ("error" if problem else "saved", job_id, folder, problem)
        self._render_status()

    def _render_status(self) -> None:
        kind, job_id, folder, problem = self._status
        line = self.status_label
        if kind == "saved":
            line.show_text(fill(self.tr("Results of %1 saved in %2"), job_id, folder))
        elif kind == "error" and problem is not None:
            text = fill(self.tr("Results of %1 not saved: %2"), job_id, problem_text(problem))
            line.show_text(text, True, problem.raw)
        elif kind == "log_error" and problem is not None:
            text = fill(self.tr("Logs of %1 not loaded: %2"), job_id, problem_text(problem))
            line.show_text(text, True, problem.raw)
        else:
            line.clear()

    def _cancel(self) -> None:
        """Asks first: cancelling stops the work and keeps what was spent."""
        job = self.selected_job()
        if job is None:
            return

        def answered(answer: str) -> None:
            self.question = None
            if answer == "cancel_job":
                self._bridge.cancel_job(job.job_id)

        left = job.tasks_total - job.tasks_done - job.tasks_failed
        self.question = Question(
            self,
            self.tr("Cancel this job?"),
            fill(self.tr("Cancel %1?"), job.name or job.job_id),
            fill(
                self.tr(
                    "Its %n unfinished task(s) stop, and none of them will run again. What it "
                    "has used so far (%1) stays spent; the rest of the %2 held for it comes "
                    "back to your balance. Results of finished tasks stay available.",
                    "",
                    left,
                ),
                models.cpt_short(job.cost_ucpt),
                models.cpt_short(job.max_cost_ucpt),
            ),
            [
                Choice("cancel_job", self.tr("Cancel the job"), QMessageBox.DestructiveRole),
                Choice("keep", self.tr("Keep it running"), QMessageBox.RejectRole, default=True),
            ],
            answered,
        ).open()


class LogDialog(QDialog):
    """The stdout/stderr of each task of a job, read-only, a section per task."""

    def __init__(
        self, job_id: str, logs: list[models.TaskLog], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(fill(self.tr("Logs of job %1"), job_id))
        self.resize(720, 480)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFont(QFontDatabase.systemFont(QFontDatabase.FixedFont))
        self.text.setAccessibleName(self.tr("Task logs"))
        self.text.setPlainText(self.render(logs) or self.tr("No log yet."))
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.setAttribute(Qt.WA_DeleteOnClose)

    def render(self, logs: list[models.TaskLog]) -> str:
        sections = []
        for task in logs:
            state = job_state_text(task.state)
            if task.round is None:
                header = fill(self.tr("—— Task %1 (%2) ——"), task.index, state)
            elif task.aggregate:
                header = fill(self.tr("—— Round %1, aggregate (%2) ——"), task.round + 1, state)
            else:
                header = fill(
                    self.tr("—— Round %1, task %2 (%3) ——"), task.round + 1, task.index, state
                )
            body = log_text(task.log.rstrip()) or self.tr("(no output)")
            if task.error:
                body += "\n" + fill(self.tr("Error: %1"), task_error_text(task.error))
            sections.append(f"{header}\n{body}")
        return "\n\n".join(sections)
