"""An execution environment's confinement, applied by the process to itself before the
function's code runs (in a forked environment) or before exec (in the others).

    private /tmp     a mount namespace with the environment's own folder bound on /tmp (as
                     root; otherwise in a user namespace, where the kernel allows one), and
                     an empty /run (the system's sockets are there)
    Lambda's layout  (with `task`) the function's code at /var/task and its layers merged at
                     /opt, the later over the earlier, this runtime at /var/runtime, all
                     read-only; nothing else of /var and /opt
    capabilities     none, and (no_new_privs) none to gain by exec, not even as root
    Landlock         the file system shrinks to what the host allows: read (and execute) below
                     `common` and `read`, everything below `write`; other processes cannot be
                     traced, read through /proc or signalled, nor abstract UNIX sockets
                     outside reached

A spare (forked ahead of need) takes its mount namespace and builds the rules every function
shares (`prepare`) while it waits, so that the cold start that assigns it only adds the
function's own. The rules are the host's (portico.runtime.confinement); this module applies
them, with the standard library alone, since it runs inside the environment.
"""

from __future__ import annotations

import ctypes
import os
import stat
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# <linux/landlock.h>: the same numbers on every architecture
_CREATE_RULESET, _ADD_RULE, _RESTRICT_SELF = 444, 445, 446
_CREATE_RULESET_VERSION = 1
_RULE_PATH_BENEATH = 1
EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
_FS_BY_ABI = {1: (1 << 13) - 1, 2: (1 << 14) - 1, 3: (1 << 15) - 1, 5: (1 << 16) - 1}
_FILE_ONLY = EXECUTE | WRITE_FILE | READ_FILE | (1 << 14) | (1 << 15)  # + TRUNCATE, IOCTL_DEV
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1
READ = EXECUTE | READ_FILE | READ_DIR
EVERYTHING = (1 << 16) - 1  # masked, rule by rule, with what the kernel handles

# <linux/prctl.h>, <linux/sched.h>, <linux/mount.h>, <linux/capability.h>
_PR_SET_NO_NEW_PRIVS, _PR_GET_NO_NEW_PRIVS = 38, 39
_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_IS_SET, _PR_CAP_AMBIENT_CLEAR_ALL = 47, 1, 4
_CLONE_NEWNS, _CLONE_NEWUSER = 0x00020000, 0x10000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC, _MS_REMOUNT = 1, 2, 4, 8, 32
_MS_BIND, _MS_REC, _MS_PRIVATE = 4096, 16384, 1 << 18
TASK_ROOT, LAYERS_ROOT, RUNTIME_DIR = "/var/task", "/opt", "/var/runtime"
# Folders this module covers with mounts of its own: what an environment reads below them is
# opened first and bound back in.
_COVERED = ("/tmp", "/var")
_SYS_CAPGET = {"x86_64": 125, "aarch64": 90}.get(os.uname().machine)
_SYS_CAPSET = {"x86_64": 126, "aarch64": 91}.get(os.uname().machine)
_CAPABILITY_VERSION_3 = 0x20080522

# Looked up once, here: a spare inherits them, and a cold start pays no dlsym.
_libc = ctypes.CDLL(None, use_errno=True)
_syscall, _prctl, _mount, _unshare = _libc.syscall, _libc.prctl, _libc.mount, _libc.unshare
_syscall.restype = ctypes.c_long


class Unconfinable(OSError):
    """A step of the confinement the kernel refused."""


def _check(result: int, what: str) -> int:
    if result < 0:
        code = ctypes.get_errno()
        raise Unconfinable(code, f"{what}: {os.strerror(code)}")
    return result


def landlock_abi() -> int:
    """The Landlock ABI version this kernel offers; 0 when it has none (or it is disabled)."""
    version = _syscall(_CREATE_RULESET, None, ctypes.c_size_t(0), _CREATE_RULESET_VERSION)
    return max(int(version), 0)


def _fs_rights(abi: int) -> int:
    return _FS_BY_ABI[max(level for level in _FS_BY_ABI if level <= abi)]


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


@dataclass
class _Rules:
    """A Landlock ruleset being built, and the folders it names below /tmp or /var (kept
    open: once those are the environment's own, they are bound back in by descriptor)."""

    common: tuple[str, ...]
    fd: int
    handled: int
    covered: list[tuple[str, int]]
    laid_out: bool = False  # /var and /opt allowed (Lambda's layout)

    @classmethod
    def create(cls, common: Sequence[str]) -> _Rules:
        abi = landlock_abi()
        if abi < 1:
            raise Unconfinable(0, "Landlock is not available")
        handled = _fs_rights(abi)
        if abi >= 6:
            attr = struct.pack("=QQQ", handled, 0, _SCOPE_ABSTRACT_UNIX_SOCKET | _SCOPE_SIGNAL)
        elif abi >= 4:
            attr = struct.pack("=QQ", handled, 0)
        else:
            attr = struct.pack("=Q", handled)
        buffer = ctypes.create_string_buffer(attr, len(attr))
        fd = _check(
            _syscall(_CREATE_RULESET, buffer, ctypes.c_size_t(len(attr)), 0),
            "landlock_create_ruleset",
        )
        rules = cls(tuple(common), fd, handled, [])
        rules.allow(common, READ)
        return rules

    def allow(self, paths: Iterable[str], rights: int) -> None:
        for path, fd in _open_all(paths):
            directory = stat.S_ISDIR(os.fstat(fd).st_mode)
            allowed = rights & (self.handled if directory else self.handled & _FILE_ONLY)
            attr = ctypes.create_string_buffer(struct.pack("=Qi", allowed, fd), 12)
            try:
                _check(
                    _syscall(_ADD_RULE, self.fd, _RULE_PATH_BENEATH, attr, 0),
                    f"landlock_add_rule {path}",
                )
            finally:
                if _strictly_below(path, *_COVERED):
                    self.covered.append((path, fd))
                else:
                    os.close(fd)

    def enforce(self) -> None:
        _check(_prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
        _check(_syscall(_RESTRICT_SELF, self.fd, 0), "landlock_restrict_self")

    def close(self) -> None:
        for _path, fd in self.covered:
            os.close(fd)
        os.close(self.fd)


def _write(path: str, text: str) -> None:
    with open(path, "w") as file:
        file.write(text)


def _own_mounts() -> bool:
    """A mount namespace of this process's own (in a user namespace of its own when not
    root); False when the kernel allows it none."""
    uid, gid = os.getuid(), os.getgid()
    if os.geteuid() == 0:
        if _unshare(_CLONE_NEWNS) < 0:
            return False
    else:
        if _unshare(_CLONE_NEWUSER | _CLONE_NEWNS) < 0:
            return False
        try:
            _write("/proc/self/setgroups", "deny")
            _write("/proc/self/uid_map", f"{uid} {uid} 1")
            _write("/proc/self/gid_map", f"{gid} {gid} 1")
        except OSError:
            return False
    if _mount(None, b"/", None, _MS_REC | _MS_PRIVATE, None) < 0:
        return False
    try:
        _hide_run()
    except OSError:
        return False
    return True


def _hide_run() -> None:
    """An empty, read-only /run, but for the resolver's file if it lives there. The system's
    sockets live in /run (Docker's, D-Bus's, databases'), and Landlock does not restrict
    connecting to a UNIX socket: an environment of a server run as root, uid 0, could
    otherwise talk to any of them."""
    if os.path.islink("/run") or not os.path.isdir("/run"):
        return
    resolver = os.path.realpath("/etc/resolv.conf")
    kept = _open_all([resolver] if resolver.startswith("/run/") else [])
    try:
        flags = _MS_NOSUID | _MS_NODEV | _MS_NOEXEC
        _check(_mount(b"tmpfs", b"/run", b"tmpfs", flags, b"mode=755,size=64k"), "tmpfs /run")
        for path, fd in kept:
            _bind_back(path, fd)
        _check(_mount(None, b"/run", None, _MS_REMOUNT | _MS_RDONLY | flags, None), "/run")
    finally:
        for _path, fd in kept:
            os.close(fd)


def _below(path: str, *folders: str) -> bool:
    return any(path == folder or path.startswith(folder + "/") for folder in folders)


def _strictly_below(path: str, *folders: str) -> bool:
    return any(path.startswith(folder + "/") for folder in folders)


def _private_tmp(tmp_dir: str, tmp_fd: int, kept: list[tuple[str, int]]) -> None:
    """Bind `tmp_dir` (opened as `tmp_fd` before /var was covered: it may lie there) on
    /tmp, then the `kept` folders (opened in this namespace, below /tmp: a data dir may be
    there) back where they were, read-only."""
    origin = os.fsencode(f"/proc/self/fd/{tmp_fd}")
    _check(_mount(origin, b"/tmp", None, _MS_BIND | _MS_REC, None), "bind /tmp")
    # Read-only as mounts: beneath /tmp, Landlock would let them be written like /tmp.
    _restore("/tmp", kept, os.path.normpath(tmp_dir))


def _restore(folder: str, kept: list[tuple[str, int]], skipped: str | None = None) -> None:
    """Bind those of the `kept` folders below `folder` back where they were, read-only (but
    those below `skipped`, or below one bound already)."""
    restored: list[str] = []
    for path, fd in sorted(kept):
        if not _below(path, folder) or _below(path, *restored):
            continue
        if skipped is not None and _below(path, skipped):
            continue
        _bind_back(path, fd)
        restored.append(path)


def _cover_var_and_opt(opt: bool = True) -> None:
    """An empty /opt and a /var that holds only the task root's mount point, this runtime
    (this module's folder) at /var/runtime and the host's links (/var/run -> /run, say:
    paths resolve through them), all read-only. Nothing of it is the function's: a spare
    makes it ahead of need."""
    flags = _MS_NOSUID | _MS_NODEV
    options = b"mode=755,size=64k"
    links = {name: os.readlink(f"/var/{name}") for name in _symlinks("/var")}
    runtime = os.open(os.path.dirname(__file__), os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if opt:
            _check(_mount(b"tmpfs", b"/opt", b"tmpfs", _MS_RDONLY | flags, options), "/opt")
        _check(_mount(b"tmpfs", b"/var", b"tmpfs", flags, options), "tmpfs /var")
        for name, target in links.items():
            os.symlink(target, f"/var/{name}")
        os.mkdir(TASK_ROOT)
        _bind_back(RUNTIME_DIR, runtime)
        _check(_mount(None, b"/var", None, _MS_REMOUNT | _MS_RDONLY | flags, None), "/var")
    finally:
        os.close(runtime)


def _lay_out(task: str, layers: Sequence[str], kept: list[tuple[str, int]], covered: bool) -> None:
    """The code at /var/task and the layers merged at /opt (over the empty one), as Lambda
    lays them out: a later layer's file hides an earlier one's of the same name. The code is
    opened, and the layers mounted, before /var is covered (unless it is already): they may
    lie below it. What the environment reads below /var is bound back in, read-only."""
    flags = _MS_NOSUID | _MS_NODEV
    opt = LAYERS_ROOT.encode()
    code = os.open(task, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        if len(layers) > 1:  # read-only: lower layers only, the topmost first
            lower = ":".join(_overlay_escaped(layer) for layer in reversed(layers))
            options = f"lowerdir={lower}".encode()
            _check(_mount(b"overlay", opt, b"overlay", _MS_RDONLY | flags, options), "/opt")
        elif layers:
            _check(_mount(os.fsencode(layers[0]), opt, None, _MS_BIND, None), "bind /opt")
            _check(_mount(None, opt, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY, None), "/opt")
        if not covered:
            _cover_var_and_opt(opt=not layers)
        _bind_back(TASK_ROOT, code)
        if any(_strictly_below(path, "/var") for path, _fd in kept):
            _check(_mount(None, b"/var", None, _MS_REMOUNT | flags, None), "/var")
            _restore("/var", kept, TASK_ROOT)
            _check(_mount(None, b"/var", None, _MS_REMOUNT | _MS_RDONLY | flags, None), "/var")
    finally:
        os.close(code)


def _overlay_escaped(path: str) -> str:
    for special in ("\\", ":", ","):
        path = path.replace(special, "\\" + special)
    return path


def _symlinks(folder: str) -> list[str]:
    with os.scandir(folder) as entries:
        return [entry.name for entry in entries if entry.is_symlink()]


def _bind_back(path: str, fd: int) -> None:
    """Bind what `fd` names (opened in this namespace) at `path`, read-only."""
    if stat.S_ISDIR(os.fstat(fd).st_mode):
        os.makedirs(path, exist_ok=True)
    else:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
    origin, target = os.fsencode(f"/proc/self/fd/{fd}"), os.fsencode(path)
    _check(_mount(origin, target, None, _MS_BIND, None), f"bind {path}")
    read_only = _MS_REMOUNT | _MS_BIND | _MS_RDONLY
    _check(_mount(None, target, None, read_only, None), f"read-only {path}")


def _capabilities(number: int | None) -> int:
    """capget or capset (`number`) of this process's sets, with all-empty data."""
    if number is None:
        return 0
    header = ctypes.create_string_buffer(struct.pack("=Ii", _CAPABILITY_VERSION_3, 0), 8)
    data = ctypes.create_string_buffer(bytes(24), 24)  # two __user_cap_data_struct
    return int(_syscall(number, header, data))


def _drop_capabilities() -> None:
    """No capability left. None comes back with exec either, even as root: no_new_privs
    (set with Landlock) caps what exec may grant at what the process has."""
    _prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    _check(_capabilities(_SYS_CAPSET), "capset")


_mounts_owned = False
_prepared: _Rules | None = None
_covered = False  # /var and /opt are the layout's (but for the function's own)


def prepare(common: Sequence[str], layout: bool = False) -> None:
    """Ahead of need (in a spare): take the mount namespace and build the rules every
    function shares; with `layout`, cover /var and /opt for Lambda's (unless what every
    function reads lies below /var: it must be opened first). Whatever fails here is tried
    again, and reported, by `confine`."""
    global _mounts_owned, _prepared, _covered
    _mounts_owned = _mounts_owned or _own_mounts()
    try:
        _prepared = _Rules.create(common)
    except OSError:
        _prepared = None
    below_var = any(_strictly_below(path, "/var") for path in common)
    if layout and _mounts_owned and _prepared is not None and not _covered and not below_var:
        try:
            _cover_var_and_opt()
            _covered = True
            _prepared.allow(("/var", LAYERS_ROOT), READ)
            _prepared.laid_out = True
        except OSError:
            pass
    # The calls `confine` makes once the spare is assigned, made here without effect: the
    # memory they touch is then the spare's own (a copy-on-write fault costs microseconds,
    # and the first call through ctypes takes dozens of them).
    _prctl(_PR_CAP_AMBIENT, _PR_CAP_AMBIENT_IS_SET, 0, 0, 0)
    _prctl(_PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0)
    _capabilities(_SYS_CAPGET)


def discard() -> None:
    """Forget what `prepare` made: this environment runs unconfined."""
    global _prepared
    if _prepared is not None:
        _prepared.close()
        _prepared = None


def confine(
    read: Iterable[str],
    write: Iterable[str],
    tmp_dir: str,
    common: Sequence[str] = (),
    task: str | None = None,
    layers: Sequence[str] = (),
) -> None:
    """Confine this process (and what it starts) for good: read below `common` and `read`,
    write below `write`, `tmp_dir` as /tmp; with `task`, that folder at /var/task and
    `layers` at /opt, and the process in /var/task. Unconfinable if any part cannot be
    had."""
    global _mounts_owned, _prepared
    rules, _prepared = _prepared, None
    stale = False  # what was opened before a namespace was taken belongs to the one left
    if not _mounts_owned:
        _mounts_owned = stale = _own_mounts()
    if not _mounts_owned:
        if rules is not None:
            rules.close()
        raise Unconfinable(0, "no mount namespace of its own, so no private /tmp")
    if rules is None or stale or rules.common != tuple(common):
        if rules is not None:
            rules.close()
        rules = _Rules.create(common)
    tmp_fd = -1
    try:
        rules.allow(read, READ)
        rules.allow(write, EVERYTHING)
        tmp_fd = os.open(tmp_dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
        if task is not None:
            _lay_out(task, layers, rules.covered, _covered)
            # Nothing else is there. Landlock ignores a rule on a mount point another mount
            # hides: the layers' /opt needs one of its own.
            if not rules.laid_out:
                rules.allow(("/var", LAYERS_ROOT), READ)
            elif layers:
                rules.allow((LAYERS_ROOT,), READ)
        _private_tmp(tmp_dir, tmp_fd, rules.covered)
        _drop_capabilities()
        rules.enforce()
    finally:
        rules.close()
        if tmp_fd >= 0:
            os.close(tmp_fd)
    if task is not None:
        os.chdir(TASK_ROOT)
