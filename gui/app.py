"""The composition root: builds every object once, wires them, and tears them down in order.

`TrayApp.start()` loads the config, opens the engine (or shows why it cannot), and shows the tray
or its fallback window; `shutdown()` stops the engine thread (interrupt, quit, wait <= 2 s), then
closes the database. Process start-up (arguments, QApplication, signals) is in `gui.launcher`.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, QTimer, QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox, QSystemTrayIcon

from engine.config.file import ConfigLoad, PlexSyncConfig, Unread, load_config_report, save_config
from engine.config.secret_migration import move_secrets_to_store
from engine.config.secret_store import SecretStore
from engine.paths import AppPaths
from gui.autostart import Autostart
from gui.background import wait_off_thread
from gui.bridge import EngineBridge, HostedEngine
from gui.demo import GREETING, DemoController, DemoEnvironment
from gui.fallback_window import FallbackWindow
from gui.icons import IconCache, style_from_env
from gui.logging_setup import SecretMasker
from gui.network_watch import NetworkWatch
from gui.notifications import Notice, NoticeKind, NotificationPolicy, TrayNotifier
from gui.open_places import Opener
from gui.presentation import APP_TITLE
from gui.settings.dialog import SettingsDialog
from gui.translations import fill, translate_n
from gui.tray import TrayController, TrayHandlers
from gui.tray_extras import TrayExtras
from gui.tray_presence import TrayPresence

logger = logging.getLogger(__name__)

DEMO_GREETING_MS = 1500  # after the icon has registered with the tray host


class Runtime(Protocol):
    """What `EngineRuntime` gives the app: the engine, and a close() for after it stopped."""

    @property
    def engine(self) -> HostedEngine: ...

    def close(self) -> None: ...


RuntimeFactory = Callable[[AppPaths, PlexSyncConfig, Any], Runtime]


def open_engine_runtime(paths: AppPaths, config: PlexSyncConfig, listener: Any) -> Runtime:
    from engine.runtime.compose import EngineRuntime  # keeps `--help` fast

    return EngineRuntime.open(paths, config, listener=listener)


StatusWindowFactory = Callable[[EngineBridge, Path], Any]


def status_window_class() -> StatusWindowFactory | None:
    """`gui.status_window.StatusWindow`, or None while that module does not exist."""
    try:
        from gui.status_window import StatusWindow
    except ModuleNotFoundError as exc:
        if exc.name != "gui.status_window":
            raise
        return None
    return StatusWindow


class TrayApp(QObject):
    """Everything the tray process holds, built once in `start()` and torn down in `shutdown()`."""

    def __init__(
        self,
        paths: AppPaths,
        *,
        runtime_factory: RuntimeFactory = open_engine_runtime,
        autostart: Autostart | None = None,
        masker: SecretMasker | None = None,
        demo: DemoEnvironment | None = None,
        secrets: SecretStore | None = None,
        launched_at_login: bool = False,
        tray_available: Callable[[], bool] = QSystemTrayIcon.isSystemTrayAvailable,
        open_url: Callable[[QUrl], object] = QDesktopServices.openUrl,
        status_window_cls: StatusWindowFactory | bool | None = True,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.paths = paths
        self._runtime_factory = runtime_factory
        self.autostart = autostart
        self.masker = masker or SecretMasker()
        self.demo = demo
        self.secrets = secrets  # None: secrets stay in the 0600 file (the demo's throwaway dir)
        self._launched_at_login = launched_at_login
        self._tray_available = tray_available
        self._open_url = open_url
        cls = status_window_class() if status_window_cls is True else status_window_cls
        self._status_window_cls: StatusWindowFactory | None = cls if callable(cls) else None
        self._clock = clock
        self._monotonic = monotonic
        self.config = PlexSyncConfig()
        self.runtime: Runtime | None = None
        self.status_window: Any = None
        self.settings_dialog: SettingsDialog | None = None
        self._load_report: ConfigLoad | None = None
        # Why secrets could not be read at start; kept past saves until Retry reads them.
        self._keyring_problem: Unread | None = None
        self._stopped = False
        self._clean = True

    # --- start ----------------------------------------------------------------------------

    def start(self) -> None:
        loaded = wait_off_thread(self._read_config)  # the keyring may take seconds, or hang
        self._keyring_problem = loaded.keyring_problem
        if self._keyring_problem is not None:
            logger.warning("The token or API key could not be read from the system keyring")
        self.config = loaded.config
        self._remember_secrets(self.config)
        self.bridge = EngineBridge(self)
        self._open_runtime()
        self.icons = IconCache(style_from_env(os.environ.get("PLEXSYNC_TRAY_ICONS")))
        self.icons.warm()
        self.tray = TrayController(
            self.bridge,
            self._handlers(),
            icons=self.icons,
            autostart=self.autostart,
            clock=self._clock,
            monotonic=self._monotonic,
            parent=self,
        )
        policy = NotificationPolicy(clock=self._monotonic, enabled=self.config.notifications)
        self.notifier = TrayNotifier(policy, self.tray.show_notice, self)
        self.notifier.connect_bridge(self.bridge)
        self.tray.breaker_reset_requested.connect(policy.user_reset_breaker)
        self.opener = Opener(lambda: self.config, self._open_url)
        self.extras = TrayExtras(
            self.tray,
            self.paths,
            self.opener,
            self.bridge,
            show_activity=self.open_activity if self._status_window_cls else None,
            parent=self,
        )
        if self.demo is not None:
            self._add_demo_menu(self.demo)
        if self.runtime is not None:
            self.bridge.start()
        self.network = NetworkWatch(self.bridge.network_changed, self)
        self._check_autostart_entry()
        self.presence = TrayPresence(
            self.tray,
            self.bridge,
            self.icons,
            open_status=self.open_status if self._status_window_cls else None,
            open_settings=self.open_settings,
            tray_available=self._tray_available,
            launched_at_login=self._launched_at_login,
            clock=self._clock,
            monotonic=self._monotonic,
            parent=self,
        )
        self.presence.quit_requested.connect(self.quit)
        self.presence.show()
        if loaded.problem is not None or loaded.warnings():
            # Told inside the settings dialog, pre-filled with every valid value, at every start
            # until the file is fixed (it is never moved aside).
            self._load_report = loaded
            notes = [loaded.problem.describe()] if loaded.problem else []
            for text in [*notes, *loaded.warnings()]:
                logger.warning("%s", text)
            QTimer.singleShot(0, self.open_settings)
        elif not loaded.existed:
            logger.info("No settings yet: opening the settings dialog")
            QTimer.singleShot(0, self.open_settings)

    def _read_config(self) -> ConfigLoad:
        """On a worker thread: secrets still in the file move to the keyring, then the load."""
        if self.secrets is not None and self.paths.config_file.exists():
            move_secrets_to_store(self.paths.config_file, self.secrets)  # logs where they are
        return load_config_report(self.paths.config_file, secrets=self.secrets)

    def _open_runtime(self) -> None:
        """Open the database and build the engine; if that fails, the icon says so and the
        app stays up (so the user sees why and can still quit)."""
        try:
            self.runtime = self._runtime_factory(self.paths, self.config, self.bridge.listener)
        except Exception as exc:
            logger.exception("The sync engine could not open %s", self.paths.database)
            self.runtime = None
            words = QCoreApplication.translate(
                "TrayApp",
                "The sync engine could not open its database (%1). Check that %2 exists, "
                "is writable and has free space.",
            )
            self.bridge.set_host_error(fill(words, exc, self.paths.data_dir))
            return
        self.bridge.attach(self.runtime.engine)

    def _handlers(self) -> TrayHandlers:
        return TrayHandlers(
            open_status=self.open_status if self._status_window_cls else None,
            open_dead_letters=self.open_dead_letters,
            open_settings=self.open_settings,
            open_log_folder=self.open_log_folder,
            set_start_at_login=self.set_start_at_login,
            quit=self.quit,
        )

    def _add_demo_menu(self, env: DemoEnvironment) -> None:
        self.demo_controller = DemoController(env, self)
        menu = self.tray.add_submenu(self.tr("&Demo"), self.demo_controller.menu_entries())
        # Once the icon is up: a newcomer learns where the demo's controls are.
        QTimer.singleShot(DEMO_GREETING_MS, self._greet_demo)
        outage = menu.actions()[0]
        self.demo_controller.outage_changed.connect(
            lambda _down: outage.setText(self.demo_controller.outage_label())
        )

    def _greet_demo(self) -> None:
        title, message = GREETING
        self.tray.show_notice(Notice(NoticeKind.DEMO, title, message))

    def _check_autostart_entry(self) -> None:
        if self.autostart is None:
            return
        problem = self.autostart.problem()
        if problem:
            logger.warning("Start at login needs repair: %s", problem)

    @property
    def fallback(self) -> FallbackWindow | None:
        """The window shown instead of the tray icon, once there has been a need for it."""
        presence = getattr(self, "presence", None)
        return presence.fallback if presence is not None else None

    # --- windows ----------------------------------------------------------------------------

    def _status_window(self) -> Any:
        if self.status_window is None and self._status_window_cls is not None:
            window = self._status_window_cls(self.bridge, self.paths.database)
            settings_requested = getattr(window, "settings_requested", None)
            if settings_requested is not None:
                settings_requested.connect(self.open_settings)
            activity = getattr(window, "activity", None)
            if activity is not None:
                activity.open_requested.connect(self.opener.activity)
            self.status_window = window
        return self.status_window

    @Slot()
    def open_status(self) -> None:
        window = self._status_window()
        if window is None:
            self.open_settings()
            return
        window.show_and_raise()

    @Slot()
    def open_activity(self) -> None:
        window = self._status_window()
        if window is not None:
            getattr(window, "show_activity", window.show_and_raise)()

    @Slot()
    def open_dead_letters(self) -> None:
        window = self._status_window()
        if window is None:
            count = self.bridge.status.dlq if self.bridge.status else 0
            words = translate_n(
                "TrayApp",
                "1 failed scene. List it with `plexsync dlq list`, retry it with "
                "`plexsync dlq retry --all`.",
                "%n failed scenes. List them with `plexsync dlq list`, retry them with "
                "`plexsync dlq retry --all`.",
                count,
            )
            QMessageBox.information(None, APP_TITLE, words)
            return
        show_dlq = getattr(window, "show_dlq", None)
        (show_dlq or window.show_and_raise)()

    @Slot()
    def activate(self) -> None:
        """A later launch asked us to show ourselves."""
        if self._status_window_cls is not None:
            self.open_status()
        elif self.fallback is not None and self.fallback.isVisible():
            self.fallback.raise_()
            self.fallback.activateWindow()
        else:
            self.open_settings()

    @Slot()
    def open_settings(self) -> None:
        dialog = self.settings_dialog
        if dialog is None:
            dialog = SettingsDialog(
                self.config,
                config_file=self.paths.config_file,
                secrets=self.secrets,
                autostart=self.autostart,
                load_report=self._load_report,
                keyring_problem=self._keyring_problem,
            )
            dialog.config_saved.connect(self.on_settings_config_saved)
            dialog.secrets_read.connect(self.on_settings_secrets_read)
            dialog.finished.connect(self._on_settings_finished)
            self.settings_dialog = dialog
        dialog.show()
        dialog.raise_()
        dialog.activateWindow()

    @Slot(int)
    def _on_settings_finished(self, _result: int) -> None:
        dialog, self.settings_dialog = self.settings_dialog, None
        if dialog is not None:
            dialog.deleteLater()

    @Slot(object)
    def on_settings_config_saved(self, config: PlexSyncConfig) -> None:
        self._load_report = None  # the file now holds what was saved
        self.apply_config(config)

    @Slot(object)
    def on_settings_secrets_read(self, loaded: ConfigLoad) -> None:
        """Retry read what the keyring withheld at start: the engine gets it now."""
        self._keyring_problem = loaded.keyring_problem
        update = {field: getattr(loaded.config, field) for field in loaded.in_store}
        self.apply_config(self.config.model_copy(update=update))

    def apply_config(self, config: PlexSyncConfig) -> None:
        self.config = config
        self._remember_secrets(config)
        self.notifier.set_enabled(config.notifications)
        self.bridge.apply_config(config)

    def _remember_secrets(self, config: PlexSyncConfig) -> None:
        key = config.stash_api_key
        secrets = [
            config.plex_token.get_secret_value(),
            "" if key is None else key.get_secret_value(),
        ]
        if self.demo is not None:
            secrets += self.demo.secrets()
        self.masker.set_secrets(secrets)

    @Slot()
    def open_log_folder(self) -> None:
        self.extras.open_log_folder()  # a dialog with the path when no file manager opens it

    def set_start_at_login(self, enabled: bool) -> None:
        if self.autostart is None:
            return
        try:
            self.autostart.set_enabled(enabled)
        except OSError as exc:
            logger.error("Could not change the login entry: %s", exc)
            return
        if self.config.start_at_login != enabled:
            config = self.config.model_copy(update={"start_at_login": enabled})
            path, store = self.paths.config_file, self.secrets
            try:  # clears no secret: one the keyring withheld keeps its entry (issue 22)
                wait_off_thread(lambda: save_config(config, path, secrets=store))
            except OSError as exc:
                logger.error("Could not save the settings: %s", exc)
                return
            self.config = config  # the engine does not use this field: nothing to apply

    # --- stop -------------------------------------------------------------------------------

    @Slot()
    def quit(self) -> None:
        app = QApplication.instance()
        if app is not None:
            app.quit()

    def shutdown(self) -> bool:
        """Stop everything in order; True when the engine thread ended in time."""
        if self._stopped:
            return self._clean
        self._stopped = True
        logger.info("Shutting down")
        presence = getattr(self, "presence", None)
        if presence is not None:
            presence.stop()
        if self.status_window is not None and hasattr(self.status_window, "shutdown"):
            self.status_window.shutdown()
        extras = getattr(self, "extras", None)
        if extras is not None:
            extras.close()
        self.tray.hide()
        stopped = self._clean = self.bridge.stop()
        if stopped and self.runtime is not None:
            try:
                self.runtime.close()
            except Exception:
                logger.exception("Could not close the engine cleanly")
            self.runtime = None
        return stopped
