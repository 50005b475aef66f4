"""The desktop app (PySide6 only): tray, window, views and partials, and the one bridge to
the asyncio services (`bridge`)."""
