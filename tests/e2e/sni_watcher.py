"""A minimal org.kde.StatusNotifierWatcher on the session bus, for the end-to-end tests.

Run as a program on a private bus (`DBUS_SESSION_BUS_ADDRESS`). With a watcher that reports a
host, Qt publishes a QSystemTrayIcon as a StatusNotifierItem over D-Bus instead of docking it in
an X11 tray, and its tooltip and menu can be read back with `gdbus`. Prints `ready` once the
watcher's name is owned, then `item SERVICE PATH` for every item that registers.
"""

from __future__ import annotations

import signal
import sys

from PySide6.QtCore import ClassInfo, Property, QCoreApplication, QObject, QTimer, Signal, Slot
from PySide6.QtDBus import QDBusConnection, QDBusMessage

SERVICE = "org.kde.StatusNotifierWatcher"
PATH = "/StatusNotifierWatcher"


@ClassInfo({"D-Bus Interface": SERVICE})
class Watcher(QObject):
    StatusNotifierItemRegistered = Signal(str)
    StatusNotifierItemUnregistered = Signal(str)
    StatusNotifierHostRegistered = Signal()

    def __init__(self, bus: QDBusConnection) -> None:
        super().__init__()
        self.bus = bus
        self.items: list[str] = []

    @Slot(str, QDBusMessage)
    def RegisterStatusNotifierItem(self, service: str, message: QDBusMessage) -> None:
        # Qt passes its bus name, or an object path (then the item lives on the sender).
        if service.startswith("/"):
            service, path = message.service(), service
        else:
            path = "/StatusNotifierItem"
        self.items.append(f"{service}{path}")
        print(f"item {service} {path}", flush=True)
        self.StatusNotifierItemRegistered.emit(f"{service}{path}")

    def _host_registered(self) -> bool:
        return True

    def _protocol_version(self) -> int:
        return 0

    def _items(self) -> list[str]:
        return list(self.items)

    IsStatusNotifierHostRegistered = Property(bool, _host_registered, constant=True)
    ProtocolVersion = Property(int, _protocol_version, constant=True)
    RegisteredStatusNotifierItems = Property("QStringList", _items)

    @Slot(str)
    def RegisterStatusNotifierHost(self, service: str) -> None:
        self.StatusNotifierHostRegistered.emit()


def main() -> int:
    app = QCoreApplication(sys.argv)
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        print(f"no session bus: {bus.lastError().message()}", file=sys.stderr, flush=True)
        return 1
    watcher = Watcher(bus)
    options = QDBusConnection.RegisterOption.ExportAllSlots
    options |= QDBusConnection.RegisterOption.ExportAllSignals
    options |= QDBusConnection.RegisterOption.ExportAllProperties
    if not bus.registerObject(PATH, watcher, options):
        print("could not export the watcher", file=sys.stderr, flush=True)
        return 1
    if not bus.registerService(SERVICE):
        print(f"could not own {SERVICE}: {bus.lastError().message()}", file=sys.stderr, flush=True)
        return 1
    print("ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: app.quit())
    wake = QTimer(interval=200)  # let Python see SIGTERM while Qt waits
    wake.timeout.connect(lambda: None)
    wake.start()
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
