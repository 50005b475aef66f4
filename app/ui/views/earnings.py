"""Earnings: balance (and starter credit apart), today / 7 days / 30 days, a bar per day,
every payout; CSV export."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.ui import models
from app.ui.bridge import Bridge, local_time_zone
from app.ui.partials.charts import BarChart
from app.ui.texts import fill

PAYOUT_COLUMNS = 7  # time, job, task, core-seconds, base, bonuses, amount


class _Figure(QFrame):
    """A caption over a big number."""

    def __init__(self) -> None:
        super().__init__()
        self.setFrameShape(QFrame.StyledPanel)
        self.caption = QLabel()
        self.value = QLabel("—")
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.value.setFont(font)
        self.value.setTextInteractionFlags(Qt.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.addWidget(self.caption)
        layout.addWidget(self.value)


class EarningsTab(QWidget):
    def __init__(self, bridge: Bridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.snapshot = models.EarningsSnapshot()

        self.balance = _Figure()
        self.today = _Figure()
        self.week = _Figure()
        self.month = _Figure()
        figures = QGridLayout()
        for column, figure in enumerate((self.balance, self.today, self.week, self.month)):
            figures.addWidget(figure, 0, column)
        self.escrow_label = QLabel()
        self.starter_label = QLabel()

        self.chart = BarChart()
        self.chart.value_text = models.cpt_short

        self.payouts_box = QGroupBox()
        self.payouts_table = QTableWidget(0, PAYOUT_COLUMNS)
        self.payouts_table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.payouts_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.payouts_table.verticalHeader().hide()
        header = self.payouts_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.Stretch)  # the job's name takes what is left
        self.payouts_table.setWordWrap(False)
        self.payouts_table.setTextElideMode(Qt.ElideMiddle)
        self.export_button = QPushButton()
        self.export_button.clicked.connect(self._export)
        self.refresh_button = QPushButton()
        self.refresh_button.clicked.connect(bridge.refresh_earnings)
        self.status_label = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.status_label, 1)
        buttons.addWidget(self.refresh_button)
        buttons.addWidget(self.export_button)
        payouts = QVBoxLayout(self.payouts_box)
        payouts.addWidget(self.payouts_table)
        payouts.addLayout(buttons)

        layout = QVBoxLayout(self)
        layout.addLayout(figures)
        layout.addWidget(self.starter_label)
        layout.addWidget(self.escrow_label)
        layout.addWidget(self.chart, 2)
        layout.addWidget(self.payouts_box, 3)

        bridge.earnings_loaded.connect(self.show_earnings)
        self.retranslate_ui()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.LanguageChange:
            self.retranslate_ui()
        super().changeEvent(event)

    def retranslate_ui(self) -> None:
        self.balance.caption.setText(self.tr("Balance"))
        self.today.caption.setText(self.tr("Today"))
        self.week.caption.setText(self.tr("Last 7 days"))
        self.month.caption.setText(self.tr("Last 30 days"))
        self._title_days()
        self.payouts_box.setTitle(self.tr("Payouts"))
        self.export_button.setText(self.tr("&Export CSV…"))
        self.refresh_button.setText(self.tr("&Refresh"))
        self.payouts_table.setAccessibleName(self.tr("Payouts"))
        self.payouts_table.setHorizontalHeaderLabels(
            [
                self.tr("Time"),
                self.tr("Job"),
                self.tr("Task"),
                self.tr("Core-seconds"),
                self.tr("Base"),
                self.tr("Bonuses"),
                self.tr("Amount"),
            ]
        )
        self.show_earnings(self.snapshot)

    def _title_days(self) -> None:
        """Days run midnight to midnight here; an older server counts them in UTC, and then
        the captions say so."""
        utc = self.snapshot.time_zone == "UTC" and local_time_zone() not in ("UTC", "Etc/UTC")
        self.chart.title = self.tr("Earnings per day (UTC)") if utc else self.tr("Earnings per day")
        self.today.caption.setText(self.tr("Today (UTC)") if utc else self.tr("Today"))

    def show_earnings(self, snapshot: models.EarningsSnapshot) -> None:
        self.snapshot = snapshot
        self._title_days()
        for figure, ucpt in (
            (self.balance, snapshot.balance_ucpt),
            (self.today, snapshot.today_ucpt),
            (self.week, snapshot.week_ucpt),
            (self.month, snapshot.month_ucpt),
        ):
            figure.value.setText(models.cpt_short(ucpt))
            figure.value.setToolTip(models.cpt(ucpt))  # the exact amount
        self.escrow_label.setText(
            fill(
                self.tr("Held for your unfinished jobs: %1"),
                models.cpt_short(snapshot.escrow_ucpt),
            )
            if snapshot.escrow_ucpt
            else ""
        )
        # Starter credit is not CPT: shown apart from the balance, never added to it.
        self.starter_label.setText(
            fill(
                self.tr("Starter credit: %1 (pays only for your own jobs; cannot be sent)"),
                models.cpt(snapshot.starter_ucpt),
            )
            if snapshot.starter_ucpt
            else ""
        )
        self.chart.set_bars(list(snapshot.days))
        self.payouts_table.setRowCount(len(snapshot.payouts))
        for row, payout in enumerate(snapshot.payouts):
            task = str(payout.task_index) if payout.task_index >= 0 else "—"
            cells = [
                (models.local_time(payout.at), ""),
                (payout.job_name or payout.job_id, payout.job_id),
                (task, ""),
                (f"{payout.core_seconds:.1f}", ""),
                (models.cpt_short(payout.base_ucpt), models.cpt(payout.base_ucpt)),
                (models.cpt_short(payout.bonus_ucpt), models.cpt(payout.bonus_ucpt)),
                (models.cpt_short(payout.amount_ucpt), models.cpt(payout.amount_ucpt)),
            ]
            for column, (value, tooltip) in enumerate(cells):
                item = QTableWidgetItem(value)
                item.setToolTip(tooltip)
                if column >= 2:
                    item.setTextAlignment(Qt.AlignRight | Qt.AlignVCenter)
                self.payouts_table.setItem(row, column, item)
        self.export_button.setEnabled(bool(snapshot.payouts))
        self.status_label.setText(
            "" if snapshot.payouts else self.tr("No payouts yet: share this computer to earn CPT.")
        )

    def _export(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self, self.tr("Export payouts"), "hivemind-payouts.csv", self.tr("CSV files (*.csv)")
        )
        if path:
            target = Path(path)
            if target.suffix.lower() != ".csv":
                target = target.with_name(target.name + ".csv")  # the dialog may not add it
            self.export_csv(target)

    def export_csv(self, path: Path) -> None:
        path.write_text(models.payouts_csv(self.snapshot.payouts), encoding="utf-8")
        self.status_label.setText(fill(self.tr("Saved %1"), path))
