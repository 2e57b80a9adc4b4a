"""The settings dialog: every config field, validated by the pydantic model as you type.

Each invalid field shows the model's message beneath it and its tab is marked; OK and Apply stay
disabled until everything is valid. Secrets are masked with a Show toggle. "Test connection"
runs off the UI thread (gui/settings/connection.py). OK/Apply save the file atomically (0600)
and emit `config_saved`, which the app hands to the running engine. What each tab holds is in
gui/settings/tables.py.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from engine.config.file import ConfigLoad, PlexSyncConfig, Unread, save_config
from engine.config.secret_store import SECRET_FIELDS, SecretStore
from gui.autostart import Autostart
from gui.background import Runner, run_in_thread, wait_off_thread
from gui.mnemonics import label_standard_buttons
from gui.presentation import APP_TITLE
from gui.settings.connection import (
    ConnectionTests,
    default_plex_tester,
    default_stash_tester,
)
from gui.settings.fields import (
    ErrorLabel,
    LibraryPicker,
    PathMappingsEditor,
    SecretEdit,
    with_error,
)
from gui.settings.help import (
    help_label,
    plex_token_help,
    stash_key_help,
    storage_words,
    user_words,
)
from gui.settings.keyring_notice import KeyringNotice
from gui.settings.metadata import MetadataChoices
from gui.settings.notice import LoadNotice, problems_by_field
from gui.settings.numbers import NumberEdit
from gui.settings.tables import MATCH_OPTIONS, METADATA_CHECKS, NUMBERS, SYNC_FIELDS, TAB_TITLES
from gui.translations import fill
from gui.window_fit import add_close_keys, resize_to_fit

logger = logging.getLogger(__name__)

SCROLLED_TABS = ("metadata",)  # the tab with the most rows


def _number_or_text(box: NumberEdit) -> float | str:
    """The number, or the raw text (so the model rejects it too and nothing is saved)."""
    value = box.value()
    return box.text() if value is None else value


class SettingsDialog(ConnectionTests, QDialog):
    config_saved = Signal(object)  # PlexSyncConfig, after it was written
    secrets_read = Signal(object)  # ConfigLoad: Retry read the secrets the keyring withheld
    _plex_tested = Signal(object, object)  # libraries | None, error | None
    _stash_tested = Signal(object, object)  # version | None, error | None

    def __init__(
        self,
        config: PlexSyncConfig,
        *,
        config_file: Path,
        secrets: SecretStore | None = None,
        autostart: Autostart | None = None,
        plex_tester: Callable[[PlexSyncConfig], list[str]] = default_plex_tester,
        stash_tester: Callable[[PlexSyncConfig], str] = default_stash_tester,
        runner: Runner = run_in_thread,
        load_report: ConfigLoad | None = None,
        keyring_problem: Unread | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        # Ends in the app's name, so it is named once.
        self.setWindowTitle(fill(self.tr("Settings – %1"), APP_TITLE))
        self.setMinimumSize(520, 420)
        self._original = config
        self._config_file = config_file
        self._secrets = secrets
        self._autostart = autostart
        self._plex_tester = plex_tester
        self._stash_tester = stash_tester
        self._runner = runner
        self._valid: PlexSyncConfig | None = config
        # A file with problems is not what the form shows: saving it is a change worth Apply.
        unsaved = load_report is not None and (load_report.problem or load_report.ignored_keys)
        self._saved: PlexSyncConfig | None = None if unsaved else config
        self._load_report = load_report
        self._load_problems = problems_by_field(load_report)
        # The app remembers why secrets could not be read past its first save (issue 22).
        if keyring_problem is None and load_report is not None:
            keyring_problem = load_report.keyring_problem
        self._keyring_problem = keyring_problem
        self._loaded_form: dict[str, Any] = {}  # the form as loaded (set after _load)
        self.errors: dict[str, ErrorLabel] = {}
        self._field_tab: dict[str, str] = {}
        self.checks: dict[str, QCheckBox] = {}
        self.numbers: dict[str, NumberEdit] = {}
        self._test_generation = {"plex": 0, "stash": 0}  # a change makes a running test stale
        self._running_test: dict[str, int] = {}
        self._build()
        self._load(config)
        self._loaded_form = self.form_data()
        self._show_load_report()
        self._plex_tested.connect(self._on_plex_tested)
        self._stash_tested.connect(self._on_stash_tested)
        self._clear_tests_on_change()
        resize_to_fit(self, self.sizeHint())
        add_close_keys(self)
        self.validate()

    # --- layout ---------------------------------------------------------------------------

    def _build(self) -> None:
        self.tabs = QTabWidget(self)
        self._pages: dict[str, QWidget] = {}
        self._forms: dict[str, QFormLayout] = {}
        for key, title in TAB_TITLES.items():
            page = QWidget()
            form = QFormLayout(page)
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
            self._pages[key], self._forms[key] = page, form
            self.tabs.addTab(self._scrolled(page) if key in SCROLLED_TABS else page, self.tr(title))
        self._build_plex()
        self._build_stash()
        self._build_sync()
        self._build_metadata()
        self._build_numbers()
        self._build_app()
        self.banner = QLabel(self)
        self.banner.setWordWrap(True)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Apply
            | QDialogButtonBox.StandardButton.Cancel,
            self,
        )
        label_standard_buttons(self.buttons)
        self.ok_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.apply_button = self.buttons.button(QDialogButtonBox.StandardButton.Apply)
        self.ok_button.clicked.connect(self.on_ok_clicked)
        self.apply_button.clicked.connect(self.on_apply_clicked)
        self.buttons.rejected.connect(self.reject)
        self.notice = LoadNotice(self._config_file, self)
        self.keyring_notice = KeyringNotice(self._config_file, self._secrets, self._runner, self)
        self.keyring_notice.secrets_read.connect(self.on_keyring_notice_secrets_read)
        layout = QVBoxLayout(self)
        layout.addWidget(self.keyring_notice)
        layout.addWidget(self.notice)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.banner)
        layout.addWidget(self.buttons)

    @staticmethod
    def _scrolled(page: QWidget) -> QScrollArea:
        """A tab taller than a small screen scrolls instead of squeezing its help lines."""
        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setWidget(page)
        return area

    def _row(self, tab: str, name: str, label: str, editor: QWidget, hint: str = "") -> None:
        """A labelled field; the label's & is its mnemonic (Alt+letter focuses the field).
        `label` and `hint` are translated here."""
        label = self.tr(label)
        editor.setAccessibleName(label.replace("&", ""))
        box, error = with_error(editor, self.tr(hint) if hint else "")
        self.errors[name] = error
        self._field_tab[name] = tab
        self._forms[tab].addRow(label, box)

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(self.tr(placeholder))
        edit.textChanged.connect(self.validate)
        return edit

    def _build_plex(self) -> None:
        self.plex_url = self._line("plex_url", "http://192.168.1.10:32400")
        self._row("plex", "plex_url", "Server &URL", self.plex_url)
        self.plex_token = SecretEdit("plex_token", self.tr("X-Plex-Token"))
        self.plex_token.textChanged.connect(self.validate)
        self._row("plex", "plex_token", "&Token", self.plex_token)
        self.plex_help = help_label(plex_token_help())
        self.plex_help.setObjectName("plex_help")
        self._forms["plex"].addRow(self.plex_help)
        store = self._secrets  # asked off the GUI thread: a keyring may take seconds to answer
        reason = None if store is None else wait_off_thread(store.unavailable)
        self.secret_storage = QLabel(
            fill(self.tr("The token and API key are kept in %1."), storage_words(store, reason))
        )
        self.secret_storage.setObjectName("secret_storage")
        self.secret_storage.setWordWrap(True)
        self._forms["plex"].addRow(self.secret_storage)
        self.plex_ca_bundle = self._line("plex_ca_bundle", "System certificates")
        hint = "For https with a self-signed or private CA: that CA's certificate file (PEM)."
        self._row("plex", "plex_ca_bundle", "&CA certificate", self.plex_ca_bundle, hint)
        self.plex_test = QPushButton(self.tr("Te&st connection"))
        self.plex_test.setToolTip(
            self.tr("Connect to Plex with these settings and list its libraries")
        )
        self.plex_test.setObjectName("plex_test")
        self.plex_test.clicked.connect(self.on_plex_test_clicked)
        self.plex_result = QLabel()
        self.plex_result.setWordWrap(True)
        self._forms["plex"].addRow(self._pair(self.plex_test, self.plex_result))
        self.libraries = LibraryPicker()
        self.libraries.changed.connect(self.validate)
        hint = (
            "None checked: every movie library is written to. Check some to keep others (home"
            " videos) untouched. Test the connection to list them."
        )
        self._row("plex", "plex_libraries", "&Libraries", self.libraries, hint)

    def _build_stash(self) -> None:
        self.stash_url = self._line("stash_url", "http://localhost:9999")
        self._row("stash", "stash_url", "Stash &URL", self.stash_url)
        self.stash_api_key = SecretEdit(
            "stash_api_key", self.tr("Leave empty if Stash has no login")
        )
        self.stash_api_key.textChanged.connect(self.validate)
        self._row("stash", "stash_api_key", "API &key", self.stash_api_key)
        self.stash_help = help_label(stash_key_help())
        self.stash_help.setObjectName("stash_help")
        self._forms["stash"].addRow(self.stash_help)
        self.stash_ca_bundle = self._line("stash_ca_bundle", "System certificates")
        hint = "For https with a self-signed or private CA: that CA's certificate file (PEM)."
        self._row("stash", "stash_ca_bundle", "&CA certificate", self.stash_ca_bundle, hint)
        self.stash_test = QPushButton(self.tr("Te&st connection"))
        self.stash_test.setToolTip(self.tr("Connect to Stash with these settings"))
        self.stash_test.setObjectName("stash_test")
        self.stash_test.clicked.connect(self.on_stash_test_clicked)
        self.stash_result = QLabel()
        self.stash_result.setWordWrap(True)
        self._forms["stash"].addRow(self._pair(self.stash_test, self.stash_result))

    def _build_sync(self) -> None:
        fields = QGroupBox(self.tr("Copy these fields to Plex"))
        grid = QGridLayout(fields)
        for index, (name, label) in enumerate(SYNC_FIELDS):
            grid.addWidget(self._check(name, label), index // 4, index % 4)
        self._forms["sync"].addRow(fields)
        self.mappings = PathMappingsEditor()
        self.mappings.changed.connect(self.validate)
        hint = "Where Stash and Plex see the same folder under different paths."
        self._row("sync", "path_mappings", "&Path mappings", self.mappings, hint)
        for name, label in MATCH_OPTIONS:
            self._forms["sync"].addRow(self._check(name, label))
            self._field_tab[name] = "sync"
        self.library_check = QComboBox()
        self.library_check.setObjectName("library_check")
        for value in ("never", "daily", "weekly"):
            self.library_check.addItem(self.tr(value.capitalize()), value)
        self.library_check.currentIndexChanged.connect(self.validate)
        hint = "Compare Stash with Plex on its own (also: Check library now, in the tray menu)."
        self._row("sync", "library_check", "Check &library", self.library_check, hint)

    def _build_metadata(self) -> None:
        for name, label, hint in METADATA_CHECKS:
            self._check_row("metadata", name, label, hint)
        self.metadata = MetadataChoices(self.validate)
        choices = self.metadata
        hint = "Stash's studio code (e.g. ABC-123): the Plex field it goes to."
        self._row("metadata", "code_field", "Studio code &goes to", choices.code_field, hint)
        hint = "Labels are never cut short in Plex's lists; genres show in more apps."
        self._row("metadata", "tags_as", "&Tags as", choices.tags_as, hint)
        hint = "One content rating for every synced item, e.g. XXX; empty leaves Plex's own."
        self._row("metadata", "content_rating", "Content &rating", choices.content_rating, hint)
        hint = "These tags never reach Plex (case does not matter)."
        self._row("metadata", "tag_exclude", "E&xclude tags", choices.tag_exclude, hint)
        hint = "A second collection for the studio's parent, beside the studio's own."
        label = "Parent studio co&llection"
        self._row(
            "metadata", "parent_studio_collection", label, choices.parent_studio_collection, hint
        )
        hint = "Plex shows posters at 2:3: a wide screenshot is cropped to its middle there."
        self._row("metadata", "poster_shape", "&Poster shape", choices.poster_shape, hint)
        hint = "Put before each group's name, so its collections sort together in Plex."
        label, editor = "Prefix of group collection&s", choices.group_collection_prefix
        self._row("metadata", "group_collection_prefix", label, editor, hint)
        hint = "Each of these tags also becomes a Plex collection of its name."
        label = "Tags that &make collections"
        self._row("metadata", "tag_collections", label, choices.tag_collections, hint)

    def _check_row(self, tab: str, name: str, label: str, hint: str) -> None:
        """A check box with its one line of help (and an error label, like every field)."""
        box, error = with_error(self._check(name, label), self.tr(hint))
        self.errors[name] = error
        self._field_tab[name] = tab
        self._forms[tab].addRow(box)

    def _build_numbers(self) -> None:
        for name, label, integer, unit, tab in NUMBERS:
            box = NumberEdit(name, integer=integer, unit=unit)
            box.valueChanged.connect(self.validate)
            self.numbers[name] = box
            self._row(tab, name, label, box)

    def _build_app(self) -> None:
        form = self._forms["app"]
        form.addRow(self._check("notifications", "Show notifications when something changes"))
        login = self._check("start_at_login", "Start %1 when I log in")
        box, error = with_error(login, self._autostart.describe() if self._autostart else "")
        self.errors["start_at_login"] = error
        self._field_tab["start_at_login"] = "app"
        form.addRow(box)
        self.autostart_problem = QLabel()
        self.autostart_problem.setWordWrap(True)
        self.autostart_problem.setObjectName("autostart_problem")
        form.addRow(self.autostart_problem)
        if self._autostart is None:
            login.setEnabled(False)
            login.setToolTip(self.tr("Not available in this mode"))
        where = QLabel(fill(self.tr("Settings file: %1"), self._config_file))
        where.setWordWrap(True)
        where.setEnabled(False)
        form.addRow(where)

    def _check(self, name: str, label: str) -> QCheckBox:
        """A check box; `label` is translated here (%1 is the app's name)."""
        box = QCheckBox(fill(self.tr(label), APP_TITLE))
        box.setObjectName(name)
        box.toggled.connect(self.validate)
        self.checks[name] = box
        return box

    @staticmethod
    def _pair(left: QWidget, right: QWidget) -> QWidget:
        box = QWidget()
        layout = QHBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(left)
        layout.addWidget(right, 1)
        return box

    # --- values ---------------------------------------------------------------------------

    def _load(self, config: PlexSyncConfig) -> None:
        self.plex_url.setText(config.plex_url)
        self.plex_token.setText(config.plex_token.get_secret_value())
        self.libraries.set_libraries([], config.plex_libraries)
        self.stash_url.setText(config.stash_url)
        self.plex_ca_bundle.setText(config.plex_ca_bundle)
        self.stash_ca_bundle.setText(config.stash_ca_bundle)
        key = config.stash_api_key
        self.stash_api_key.setText("" if key is None else key.get_secret_value())
        self.mappings.set_mappings(config.path_mappings)
        self.library_check.setCurrentIndex(self.library_check.findData(config.library_check))
        self.metadata.load(config)
        for name, number in self.numbers.items():
            number.setValue(getattr(config, name))
        for name, check in self.checks.items():
            check.setChecked(bool(getattr(config, name)))
        if self._autostart is not None:
            self.checks["start_at_login"].setChecked(self._autostart.is_enabled())
            problem = self._autostart.problem()
            self.autostart_problem.setText(f"⚠ {problem}" if problem else "")
            self.autostart_problem.setVisible(bool(problem))
        else:
            self.autostart_problem.hide()

    def line_edit(self, name: str) -> QLineEdit | None:
        """The form's text field of that object name, if it has one."""
        return self.findChild(QLineEdit, name)

    def form_data(self) -> dict[str, Any]:
        """The form as the model's input (secrets in clear: this dict is never logged)."""
        data: dict[str, Any] = {
            "schema_version": self._original.schema_version,
            "plex_url": self.plex_url.text(),
            "plex_token": self.plex_token.text().strip(),
            "plex_libraries": self.libraries.chosen(),
            "stash_url": self.stash_url.text(),
            "stash_api_key": self.stash_api_key.text().strip() or None,
            "path_mappings": self.mappings.values(),
            "plex_ca_bundle": self.plex_ca_bundle.text(),
            "stash_ca_bundle": self.stash_ca_bundle.text(),
            "library_check": self.library_check.currentData(),
        }
        data.update(self.metadata.values())
        data.update({name: _number_or_text(box) for name, box in self.numbers.items()})
        data.update({name: box.isChecked() for name, box in self.checks.items()})
        return data

    @Slot()
    def validate(self) -> PlexSyncConfig | None:
        problems: dict[str, list[str]] = {}
        try:
            self._valid = PlexSyncConfig.model_validate(self.form_data())
        except ValidationError as exc:
            self._valid = None
            for item in exc.errors(include_input=False, include_url=False):
                loc = [str(part) for part in item["loc"]]
                name = loc[0] if loc else ""
                message = user_words(item)
                if name == "path_mappings" and len(loc) >= 3:
                    column = "Stash path" if loc[2] == "stash_prefix" else "Plex path"
                    row = self.mappings.table_row(int(loc[1])) + 1
                    message = f"Row {row}, {column}: {message}"
                problems.setdefault(name, []).append(message)
        for name, box in self.numbers.items():  # the box's own words, not pydantic's
            problem = box.problem()
            problems.pop(name, None)
            if problem:
                problems[name] = [problem]
        shown = {name: list(messages) for name, messages in problems.items()}
        form = self.form_data()
        for name, messages in self._load_problems.items():
            if form.get(name) == self._loaded_form.get(name):  # until the user changes it
                shown.setdefault(name, []).extend(messages)
        for name, label in self.errors.items():
            label.show_problems(shown.get(name, []))
        self._mark_tabs(shown)
        self._update_buttons(problems)
        return self._valid

    def _mark_tabs(self, problems: dict[str, list[str]]) -> None:
        bad_tabs = {self._field_tab.get(name, "app") for name in problems}
        for index, (key, title) in enumerate(TAB_TITLES.items()):
            title = self.tr(title)
            self.tabs.setTabText(index, f"{title} ⚠" if key in bad_tabs else title)

    def _update_buttons(self, problems: dict[str, list[str]]) -> None:
        valid = self._valid is not None
        self.ok_button.setEnabled(valid)
        self.apply_button.setEnabled(valid and self._valid != self._saved)
        if problems:
            tabs = sorted({self.tr(TAB_TITLES[self._field_tab.get(n, "app")]) for n in problems})
            self.banner.setText(
                fill(self.tr("Fix the marked fields (%1) to save."), ", ".join(tabs))
            )
        elif self._valid is not None and not self._valid.is_configured:
            self.banner.setText(self.tr("Enter the Plex URL and token to start syncing."))
        else:
            self.banner.setText("")

    @property
    def config(self) -> PlexSyncConfig | None:
        """The valid config the form holds now, or None."""
        return self._valid

    # --- saving ---------------------------------------------------------------------------

    @Slot()
    def on_ok_clicked(self) -> None:
        if self.save():
            self.accept()

    @Slot()
    def on_apply_clicked(self) -> None:
        self.save()

    def save(self) -> bool:
        config = self.validate()
        if config is None:
            return False
        # Only a secret the user emptied here is deleted from the keyring; one that was empty
        # at load (perhaps unread: the keyring was locked) keeps its entry (issue 22).
        cleared = frozenset(
            f for f in SECRET_FIELDS if self._loaded_form.get(f) and not self._secret_text(f)
        )
        path, store = self._config_file, self._secrets
        self.buttons.setEnabled(False)  # the keyring is asked off the GUI thread meanwhile
        try:
            wait_off_thread(
                lambda: save_config(config, path, secrets=store, cleared_secrets=cleared)
            )
        except OSError as exc:
            logger.error("Could not save the settings: %s", exc.strerror)
            reason = exc.strerror or str(exc)
            self.banner.setText(fill(self.tr("Could not save the settings: %1"), reason))
            return False
        finally:
            self.buttons.setEnabled(True)
        logger.info("Settings saved to %s", self._config_file)
        self._saved = config
        self._loaded_form = self.form_data()
        self._forget_load_problems()
        self._update_buttons({})
        if not self._sync_autostart(config.start_at_login):
            return False
        self.config_saved.emit(config)
        return True

    def _sync_autostart(self, wanted: bool) -> bool:
        autostart = self._autostart
        if autostart is None:
            return True
        try:
            if wanted != autostart.is_enabled() or (wanted and autostart.problem()):
                autostart.set_enabled(wanted)
        except OSError as exc:
            logger.error("Could not change the login entry: %s", exc)
            self.errors["start_at_login"].show_problems([f"Could not change it: {exc}"])
            self.config_saved.emit(self._saved)
            return False
        self.autostart_problem.hide()
        return True

    # --- what reading the file found ---------------------------------------------------------

    def _secret_text(self, field: str) -> str:
        edit = self.plex_token if field == "plex_token" else self.stash_api_key
        return edit.text().strip()

    def _show_load_report(self) -> None:
        """Say inside the dialog what was wrong with the file, and show the first bad tab."""
        self.notice.show_report(self._load_report)
        self.keyring_notice.show_problem(self._keyring_problem)
        bad_tabs = [self._field_tab.get(name, "app") for name in self._load_problems]
        if bad_tabs:
            self.tabs.setCurrentIndex(list(TAB_TITLES).index(bad_tabs[0]))

    @Slot(object)
    def on_keyring_notice_secrets_read(self, loaded: ConfigLoad) -> None:
        """Retry read secrets: fill the fields the user has not typed into since."""
        for field in loaded.in_store:
            if self._secret_text(field) or self._loaded_form.get(field):
                continue
            value = getattr(loaded.config, field)
            text = "" if value is None else value.get_secret_value()
            (self.plex_token if field == "plex_token" else self.stash_api_key).setText(text)
            self._loaded_form[field] = self.form_data()[field]
            self._load_problems.pop(field, None)
        self._keyring_problem = loaded.keyring_problem
        self.validate()
        self.secrets_read.emit(loaded)

    def _forget_load_problems(self) -> None:
        """The file now holds what the form shows: the old problems no longer apply."""
        exposed = self._load_report is not None and self._load_report.exposed
        self._load_report = None
        self._load_problems = {}
        self.notice.saved(was_exposed=exposed)
        self.validate()
