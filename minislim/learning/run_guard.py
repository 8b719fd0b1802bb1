"""What keeps a training run safe from the outside world: a lock, signals, the log, OS errors.

* :func:`lock_logdir`: one trainer per logdir. An exclusive ``fcntl.flock`` on
  ``<logdir>/.minislim.lock``; the operating system releases it when the process ends,
  however it ends, so there is never a stale lock to clean up. A second trainer gets
  :class:`LogdirBusy`, naming the process that holds the lock. The lock is re-entrant
  within one process (the command line takes it, then ``train`` takes it again).
* :class:`StopSignals`: Ctrl-C (SIGINT) and SIGTERM (what Slurm, ``docker stop``,
  systemd and CI send) ask the loop to stop after the current step; the loop saves and
  raises :class:`Interrupted` (a ``KeyboardInterrupt``), whose ``exit_code`` is
  128 + the signal's number (130, 143). A second signal stops a step at once, but never
  a save in progress.
* :func:`truncate_log`: a resumed run first cuts its JSON-lines log back to the step of
  the checkpoint it resumes from (atomically), so the log holds one record per step.
* :class:`LogdirError`: an ``OSError`` on the logdir (missing, a file, a dangling link,
  read-only, a full disk) as one line naming the path and the reason.

>>> import tempfile
>>> logdir = tempfile.mkdtemp()
>>> with lock_logdir(logdir):
...     with lock_logdir(logdir):   # the same process may take it again
...         pass
"""
from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import threading
import time

try:  # POSIX; on Windows the lock is not taken (see lock_logdir)
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None

LOCK_FILE = ".minislim.lock"


class LogdirError(OSError):
    """The logdir cannot be used: the message names the path and the reason (one line)."""


class LogdirBusy(LogdirError):
    """Another process trains into the same logdir."""


class Interrupted(KeyboardInterrupt):
    """Training stopped on a signal, after saving; ``exit_code`` is 128 + the signal number."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)
        self.exit_code = 128 + int(signum)


def describe_os_error(error: OSError, path: str | None = None) -> str:
    """``'<path>: <reason>'`` for an OSError (its own file name wins over ``path``)."""
    where = error.filename if error.filename is not None else path
    reason = error.strerror or str(error) or type(error).__name__
    return f"{where}: {reason}" if where is not None else reason


def prepare_logdir(logdir: str) -> str:
    """Create ``logdir`` if needed; raise :class:`LogdirError` (one line) if it cannot be one."""
    logdir = os.fspath(logdir)
    if os.path.islink(logdir) and not os.path.exists(logdir):
        raise LogdirError(f"logdir {logdir} is a symbolic link to {os.readlink(logdir)!r}, which does not exist")
    if os.path.exists(logdir) and not os.path.isdir(logdir):
        raise LogdirError(f"logdir {logdir} is a file, not a directory")
    try:
        os.makedirs(logdir, exist_ok=True)
    except OSError as error:
        raise LogdirError(f"cannot create logdir {logdir}: {describe_os_error(error)}") from None
    return logdir


# --- one trainer per logdir ------------------------------------------------------------------

_held = {}  # real path of a logdir -> [file descriptor, depth]; the locks this process holds
_held_guard = threading.Lock()


def _holder(path: str) -> str:
    """What the lock file says about the process that holds it."""
    try:
        with open(path) as f:
            info = json.loads(f.read() or "{}")
        return f"pid {info['pid']} on {info.get('host', '?')}, since {info.get('since', '?')}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that has not written its id yet"


@contextlib.contextmanager
def lock_logdir(logdir: str):
    """Hold the logdir's exclusive lock for the ``with`` block.

    Raises:
        LogdirBusy: another process holds it (the message names that process).
        LogdirError: the lock file cannot be created (a read-only logdir, ...).
    """
    logdir = os.fspath(logdir)
    key = os.path.realpath(logdir)
    with _held_guard:
        if key in _held:
            _held[key][1] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_guard:
                _held[key][1] -= 1
        return
    path = os.path.join(logdir, LOCK_FILE)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as error:
        raise LogdirError(f"cannot lock logdir {logdir}: {describe_os_error(error, path)}") from None
    try:
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    raise LogdirError(f"cannot lock logdir {logdir}: {describe_os_error(error, path)}") from None
                raise LogdirBusy(f"logdir {logdir} is in use by another trainer ({_holder(path)}); wait for it "
                                 "to finish, stop it, or use another logdir") from None
        try:  # who holds it, for the message a second trainer gets
            os.ftruncate(fd, 0)
            os.write(fd, json.dumps({"pid": os.getpid(), "host": os.uname().nodename if hasattr(os, "uname")
                                     else "?", "since": time.strftime("%Y-%m-%d %H:%M:%S")}).encode())
        except OSError:  # a full disk: the lock holds all the same
            pass
        with _held_guard:
            _held[key] = [fd, 1]
        try:
            yield
        finally:
            with _held_guard:
                del _held[key]
    finally:
        os.close(fd)  # releases the flock


# --- signals ------------------------------------------------------------------------------------

class StopSignals:
    """Turn SIGINT and SIGTERM into a request to stop after the current step.

    ``with StopSignals(log_fn) as stop:`` (or ``install()`` ... ``restore()``) installs the handlers (only in the main thread,
    and only over Python's default handlers: a caller's own handler is left alone) and
    restores the previous ones on exit. ``stop.signum`` is the first signal received (or
    None); inside ``with stop.saving():`` further signals are only noted, so a save in
    progress is never torn; elsewhere a second signal raises :class:`Interrupted` at once.
    """

    SIGNALS = ("SIGINT", "SIGTERM")

    def __init__(self, log_fn=print):
        self.log_fn = log_fn
        self.signum = None
        self._saving = 0
        self._previous = {}

    def install(self) -> None:
        """Put this object's handler in place of Python's default ones (main thread only)."""
        if threading.current_thread() is not threading.main_thread():
            return
        defaults = {"SIGINT": signal.default_int_handler, "SIGTERM": signal.SIG_DFL}
        for name in self.SIGNALS:
            number = getattr(signal, name, None)
            if number is not None and signal.getsignal(number) is defaults[name]:
                self._previous[number] = signal.signal(number, self._handle)

    def restore(self) -> None:
        """Put the previous handlers back."""
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        self._previous.clear()

    def __enter__(self):
        self.install()
        return self

    def __exit__(self, *exc):
        self.restore()
        return False

    def _handle(self, signum, frame):
        name = signal.Signals(signum).name
        if self.signum is None:  # noted: the step finishes, then train saves and prints one line
            self.signum = signum
        elif self._saving:
            self.log_fn(f"{name} again: a checkpoint is being saved; it finishes first")
        else:
            raise Interrupted(self.signum)

    def check(self) -> None:
        """Raise :class:`Interrupted` if a signal arrived."""
        if self.signum is not None:
            raise Interrupted(self.signum)

    @contextlib.contextmanager
    def saving(self):
        """Signals received inside the block wait until it ends."""
        self._saving += 1
        try:
            yield
        finally:
            self._saving -= 1


# --- the training log ---------------------------------------------------------------------------

def truncate_log(path: str, step: int) -> int:
    """Keep the records of ``path`` (JSON lines with a ``"step"``) up to ``step``; return how many went.

    The file is rewritten to a temporary file and renamed over the old one, so a crash
    leaves either the old log or the new one. A record after ``step`` (from a run that went
    on past its last checkpoint) is dropped, and so is a line that is not a whole JSON
    record (the tail of a killed write), so a resumed run appends one record per step.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        return 0
    with open(path, "rb") as f:
        lines = f.read().split(b"\n")
    kept, dropped = [], 0
    for line in lines:
        if not line.strip():
            continue
        try:
            record_step = int(json.loads(line)["step"])
        except (ValueError, KeyError, TypeError):
            dropped += 1
            continue
        if record_step <= step:
            kept.append(line)
        else:
            dropped += 1
    if not dropped:
        return 0
    temporary = path + ".tmp"
    try:
        with open(temporary, "wb") as f:
            f.write(b"".join(line + b"\n" for line in kept))
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.remove(temporary)
        raise
    return dropped
