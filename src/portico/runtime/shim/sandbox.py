"""An execution environment's confinement, applied by the process to itself before the
function's code runs (in a forked environment) or before exec (in the others).

    private /tmp     a mount namespace with the environment's own folder bound on /tmp (as
                     root; otherwise in a user namespace, where the kernel allows one)
    capabilities     none, and (no_new_privs) none to gain by exec, not even as root
    Landlock         the file system shrinks to what the host allows: read (and execute) below
                     `read`, everything below `write`; other processes cannot be traced, read
                     through /proc or signalled, nor abstract UNIX sockets outside reached

The rules are the host's (portico.runtime.confinement); this module only applies them, with
the standard library alone, since it runs inside the environment.
"""

from __future__ import annotations

import ctypes
import os
import stat
import struct
from collections.abc import Iterable

# <linux/landlock.h>: the same numbers on every architecture
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | (1 << 14) | (1 << 15)  # + TRUNCATE, IOCTL_DEV
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
READ = EXECUTE | READ_FILE | READ_DIR

# <linux/prctl.h>, <linux/sched.h>, <linux/mount.h>, <linux/capability.h>
_PR_SET_NO_NEW_PRIVS, _PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_MS_RDONLY, _MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}
_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


class Unconfinable(OSError):
    """A step of the confinement the kernel refused."""


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise Unconfinable(code, f"{what}: {os.strerror(code)}")
    return result


def landlock_abi() -> int:
    """The Landlock ABI version this kernel offers; 0 when it has none (or it is disabled)."""
    version = _libc.syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    return max(int(version), 0)


def _fs_rights(abi: int) -> int:
    return _FS_BY_ABI[max(level for level in _FS_BY_ABI if level <= abi)]


def _ruleset(abi: int) -> int:
    handled = _fs_rights(abi)
    if abi >= 6:
        attr = struct.pack("=QQQ", handled, 0, _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL)
    elif abi >= 4:
        attr = struct.pack("=QQ", handled, 0)
    else:
        attr = struct.pack("=Q", handled)
    buffer = ctypes.create_string_buffer(attr, len(attr))
    return _check(
        _libc.syscall(_CREATE_RULESET, buffer, ctypes.c_size_t(len(attr)), 0),
        "landlock_create_ruleset",
    )


def _open_all(paths: Iterable[str]) -> list[tuple[str, int]]:
    """Those of `paths` that exist, each with an O_PATH descriptor (nothing there: nothing
    to allow)."""
    opened = []
    for path in paths:
        try:
            opened.append((os.path.normpath(path), os.open(path, os.O_PATH | os.O_CLOEXEC)))
        except OSError:
            continue
    return opened


def _allow(ruleset: int, fd: int, rights: int, handled: int) -> None:
    directory = stat.S_ISDIR(os.fstat(fd).st_mode)
    rights &= handled if directory else handled & _FILE_ONLY
    attr = ctypes.create_string_buffer(struct.pack("=Qi", rights, fd), 12)
    _check(_libc.syscall(_ADD_RULE, ruleset, _RULE_PATH_BENEATH, attr, 0), "landlock_add_rule")


def _landlock(read: list[tuple[str, int]], write: list[tuple[str, int]]) -> None:
    abi = landlock_abi()
    if abi < 1:
        raise Unconfinable(0, "Landlock is not available")
    everything = _fs_rights(abi)
    ruleset = _ruleset(abi)
    try:
        for _path, fd in read:
            _allow(ruleset, fd, READ, everything)
        for _path, fd in write:
            _allow(ruleset, fd, everything, everything)
        _check(_libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(_libc.syscall(_RESTRICT_SELF, ruleset, 0), "landlock_restrict_self")
    finally:
        os.close(ruleset)


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


def _own_mounts() -> bool:
    """A mount namespace of this process's own (in a user namespace of its own when not
    root); False when the kernel allows it none."""
    uid, gid = os.getuid(), os.getgid()
    if os.geteuid() == 0:
        if _libc.unshare(_CLONE_NEWNS) < 0:
            return False
    else:
        if _libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNS) < 0:
            return False
        try:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
        except OSError:
            return False
    return bool(_libc.mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None) == 0)


def _private_tmp(tmp_dir: str, kept: list[tuple[str, int]]) -> None:
    """Bind `tmp_dir` on /tmp, then those of the `kept` folders that were below /tmp back
    where they were (a data dir may be there), read-only. `kept` must be opened in this
    namespace."""
    source = os.fsencode(tmp_dir)
    _check(_libc.mount(source, b"/tmp", None, _MS_BIND | _MS_REC, None), "bind /tmp")
    private = os.path.normpath(tmp_dir)
    restored: list[str] = []
    for path, fd in sorted(kept):
        if not path.startswith("/tmp/") or _below(path, private) or _below(path, *restored):
            continue
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            os.makedirs(path, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
        origin, target = os.fsencode(f"/proc/self/fd/{fd}"), os.fsencode(path)
        _check(_libc.mount(origin, target, None, _MS_BIND, None), f"bind {path}")
        # Read-only as a mount: beneath /tmp, Landlock would let it be written like /tmp.
        read_only = _MS_REMOUNT | _MS_BIND | _MS_RDONLY
        _check(_libc.mount(None, target, None, read_only, None), f"read-only {path}")
        restored.append(path)


def _below(path: str, *folders: str) -> bool:
    return any(path == folder or path.startswith(folder + "/") for folder in folders)


def _drop_capabilities() -> None:
    """No capability left. None comes back with exec either, even as root: no_new_privs
    (set with Landlock) caps what exec may grant at what the process has."""
    _libc.prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    number = _SYS_CAPSET.get(os.uname().machine)
    if number is not None:
        header = ctypes.create_string_buffer(struct.pack("=Ii", _CAPABILITY_VERSION_3, 0), 8)
        data = ctypes.create_string_buffer(bytes(24), 24)  # two empty __user_cap_data_struct
        _check(_libc.syscall(number, header, data), "capset")


_mounts_owned = False


def own_mounts() -> bool:
    """Take a mount namespace of this process's own, ahead of `confine` (a spare does, so
    that the cold start that assigns it does not); whether it has one."""
    global _mounts_owned
    if not _mounts_owned:
        _mounts_owned = _own_mounts()
    return _mounts_owned


def confine(read: Iterable[str], write: Iterable[str], tmp_dir: str) -> bool:
    """Confine this process (and what it starts) for good; whether /tmp is its own."""
    private = own_mounts()
    # Opened before /tmp is another folder, since paths below it then reach other files.
    readable, writable = _open_all(read), _open_all(write)
    try:
        if private:
            _private_tmp(tmp_dir, [*readable, *writable])
        _drop_capabilities()
        _landlock(readable, writable)
    finally:
        for _path, fd in (*readable, *writable):
            os.close(fd)
    return private
