"""Which shared libraries the Linux bundle carries, whatever the build machine has installed.

PyInstaller copies every library a collected binary needs from wherever the build machine has
it. So a Qt plugin the spec leaves out still brings its libraries (Qt's GTK 3 platform theme
brings GTK, GDK, ATK, cairo and pango on a desktop with GTK 3, and nothing on a bare machine),
and a desktop library the system should provide (libxcb-cursor, fontconfig) is carried when the
build machine happens to have it and becomes a Depends when it does not. The spec applies one
rule instead: the desktop's libraries (app/ui/system_libraries.py) are never carried, a
library goes with the binaries that needed it when nothing that stays needs it, and the build
stops when it would carry a library from the system that only a Qt plugin asks for.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterable
from pathlib import Path

ELF_MAGIC = b"\x7fELF"
SHT_DYNAMIC = 6
DT_NULL, DT_NEEDED = 0, 1

# PyInstaller's TOC entries: (destination in the bundle, source file, type code).
TocEntry = tuple[str, str, str]


def needed_sonames(path: str | Path) -> list[str]:
    """The DT_NEEDED entries of an ELF file (the libraries it links against directly, as the
    dynamic loader will look them up); empty for a file that is not ELF."""
    with open(path, "rb") as elf:
        ident = elf.read(16)
        if ident[:4] != ELF_MAGIC:
            return []
        is64, order = ident[4] == 2, "<" if ident[5] == 1 else ">"
        # e_shoff, then (after e_flags, e_ehsize, e_phentsize, e_phnum) e_shentsize, e_shnum.
        header = order + ("24xQ10xHH" if is64 else "16xI10xHH")
        shoff, shentsize, shnum = struct.unpack(header, elf.read(struct.calcsize(header)))
        section = order + ("IIQQQQIIQQ" if is64 else "IIIIIIIIII")
        elf.seek(shoff)
        table = elf.read(shentsize * shnum)
        sections = [struct.unpack_from(section, table, i * shentsize) for i in range(shnum)]
        names: list[str] = []
        for _name, kind, _flags, _addr, offset, size, link, *_ in sections:
            if kind != SHT_DYNAMIC:
                continue
            strings_offset, strings_size = sections[link][4], sections[link][5]
            elf.seek(strings_offset)
            strings = elf.read(strings_size)
            elf.seek(offset)
            entry = order + ("qQ" if is64 else "iI")
            dynamic = elf.read(size)
            for tag, value in struct.iter_unpack(entry, dynamic):
                if tag == DT_NULL:
                    break
                if tag == DT_NEEDED:
                    names.append(strings[value : strings.index(b"\0", value)].decode())
        return names


def soname(dest: str) -> str:
    return dest.replace("\\", "/").rsplit("/", 1)[-1]


def carried_binaries(
    binaries: Iterable[TocEntry],
    unwanted: Callable[[str], bool],
    resolve: Callable[[str], str | None],
    needs: Callable[[str], list[str]] = needed_sonames,
) -> list[TocEntry]:
    """`binaries` without the unwanted ones and without every library that only they needed,
    directly or through another such library. A library PyInstaller did not collect (it leaves
    out libc, GL, libxcb... itself) counts as unwanted: `resolve` finds it on this machine
    (soname -> path, or None) so that what it alone needs goes too (libXau, for libxcb). A
    library nothing links against (libpython, which the bootloader opens; one loaded with
    ctypes) stays."""
    entries = list(binaries)
    linked = {dest: set(needs(source)) for dest, source, _kind in entries}
    dropped = {dest for dest in linked if unwanted(dest)}
    collected = {soname(dest) for dest in linked}
    missing = set().union(*linked.values()) - collected
    while missing:
        name = missing.pop()
        path = resolve(name)
        linked[f"<system>/{name}"] = set(needs(path)) if path else set()
        dropped.add(f"<system>/{name}")
        collected.add(name)
        missing |= linked[f"<system>/{name}"] - collected
    while True:
        kept_need = set().union(*(linked[d] for d in linked if d not in dropped))
        dropped_need = set().union(*(linked[d] for d in dropped))
        orphans = {
            dest
            for dest, _source, kind in entries
            if dest not in dropped
            and kind == "BINARY"
            and soname(dest) in dropped_need
            and soname(dest) not in kept_need
        }
        if not orphans:
            return [entry for entry in entries if entry[0] not in dropped]
        dropped |= orphans


def only_for_plugins(
    binaries: Iterable[TocEntry], needs: Callable[[str], list[str]] = needed_sonames
) -> list[str]:
    """The libraries from the build machine's system (not from a wheel, nor libpython) that no
    Python extension module needs, not even through another library: what only a Qt plugin
    or a ctypes call asks for. PyInstaller copies such a library when the build machine has it
    and leaves it out with a warning when it has not, so the bundle would depend on the build
    machine. Each must be the system's (DEBIAN_PACKAGES), or go with the plugin that wants it.
    (What extension modules need is there on every machine that can run the app at all.)"""
    entries = list(binaries)
    linked = {dest: needs(source) for dest, source, _kind in entries}
    by_soname: dict[str, list[str]] = {}
    for dest in linked:
        by_soname.setdefault(soname(dest), []).append(dest)
    needed: set[str] = set()
    pending = [
        dest
        for dest, _source, kind in entries
        if kind == "EXTENSION" or soname(dest).startswith("libpython")
    ]
    while pending:
        dest = pending.pop()
        if dest not in needed:
            needed.add(dest)
            pending += [d for name in linked[dest] for d in by_soname.get(name, [])]
    return sorted(
        dest
        for dest, source, _kind in entries
        if dest not in needed and not {"site-packages", "dist-packages"} & set(Path(source).parts)
    )
