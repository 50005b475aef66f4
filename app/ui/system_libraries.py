"""The shared libraries the desktop app takes from the system on Linux.

Qt for Python (from pip, and inside the frozen bundle) carries Qt itself, but not the X11,
xcb, GL, font and D-Bus libraries of the desktop: those are the system's, listed here by soname
with the Debian package that provides each. packaging/build.py makes the .deb's Depends from
this table.
"""

from __future__ import annotations

# soname -> Debian package, or None where the app runs without it. A library the frozen
# bundle needs and does not carry must be listed: packaging/build.py refuses to build without
# knowing its package. The bundle never carries these (packaging/hivemind.spec), so every
# build machine gives the same bundle and the same Depends.
DEBIAN_PACKAGES: dict[str, str | None] = {
    **dict.fromkeys(
        ["libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1",
         "libutil.so.1", "libresolv.so.2", "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"],
        "libc6",
    ),
    "libGL.so.1": "libgl1",
    "libGLX.so.0": "libgl1",  # libglx0 comes with libgl1
    "libGLdispatch.so.0": "libgl1",  # libglvnd0 comes with libgl1
    "libOpenGL.so.0": "libopengl0",
    "libEGL.so.1": "libegl1",
    "libdrm.so.2": "libdrm2",
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libXss.so.1": "libxss1",  # idle time on X11 (app/services/policy/idle.py, by ctypes)
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",  # Qt >= 6.5 will not start on X11 without it
    "libxcb-glx.so.0": "libxcb-glx0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libdbus-1.so.3": "libdbus-1-3",
    # Native Wayland: without these Qt uses XWayland, which every Wayland desktop runs.
    "libwayland-client.so.0": None,
    "libwayland-cursor.so.0": None,
    "libwayland-egl.so.1": None,
}  # fmt: skip
