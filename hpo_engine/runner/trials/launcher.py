"""The trial launcher: the process between the engine and a trial's command, that ends the trial's whole tree.

On Linux it is a child that the engine's fork server (:mod:`~hpo_engine.runner.trials.fork_server`)
forks per trial and that calls :func:`run`; elsewhere it is run as a script
(``python -I -S launcher.py PARENT_PID GRACE STATUS_FILE OUTPUT_LIMIT -- argv...``) by
:func:`hpo_engine.runner.trials.process.start_process`. Standard library only. On Linux it

- becomes a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``): every process the trial
  starts stays its descendant, even one that forks, calls ``setsid()`` and is left behind
  by its parent (it is re-parented to the launcher, not to init);
- asks for SIGTERM when its parent (the fork server, or the engine thread that started the
  script) dies (``prctl(PR_SET_PDEATHSIG)``), so the trial does not outlive it;
- runs ``argv`` (``/bin/sh -c COMMAND``), waits for it, writes ``STATUS_FILE`` (JSON:
  ``exit_code``, negative for a signal; ``stopped``, true when the launcher was told to stop
  the trial before it ended; ``ended_at``, seconds since the epoch), then SIGKILLs whatever
  the trial left behind and reaps it;
- on SIGTERM, SIGINT or SIGHUP (the engine stopping the trial, or its parent gone), sends
  SIGTERM to every descendant, waits up to GRACE seconds, SIGKILLs the rest;
- copies the command's stdout and stderr (pipes) to its own (the trial's ``stdout.log`` and
  ``stderr.log``) in one thread (a ``select`` loop, woken by SIGCHLD too), keeping at most the
  last OUTPUT_LIMIT bytes of each: when a file reaches twice that, it is rewritten as one line
  saying how much was dropped plus the last OUTPUT_LIMIT bytes (0: no limit). The trial is not
  slowed: the copy is a read and a write per megabyte (a 1 MiB pipe), and a rewrite per
  OUTPUT_LIMIT bytes;
- forked by the fork server, writes the exit code to the engine's *done* pipe once the tree is
  gone and the output copied.

It exits as its command did (the same code, or killed by the same signal), so the engine
sees the command's own exit status. Elsewhere than Linux the prctl calls are skipped and
only the process group is ended.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import select
import signal
import sys
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


class _Stop(BaseException):
    """Raised in the launcher by a stop signal, to leave a blocking ``waitpid``."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _on_stop(signum: int, _frame: object) -> None:
    raise _Stop(signum)


def prctl(option: int, value: int) -> bool:
    """``prctl(option, value)`` through the C library; False where it is missing or refused."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def descendants(root: int) -> list[int]:
    """Pids of every living descendant of ``root`` (from ``/proc``; zombies excluded), parents first."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for name in entries:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as stream:
                stat = stream.read().decode("ascii", "replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) >= 2 and fields[0] not in ("Z", "X"):
            children.setdefault(int(fields[1]), []).append(int(name))
    found: list[int] = []
    queue = [root]
    while queue:
        for child in children.get(queue.pop(), ()):
            found.append(child)
            queue.append(child)
    return found


def signal_all(pids: list[int], signum: int) -> None:
    """Send ``signum`` to every pid of ``pids`` that still exists."""
    for pid in pids:
        try:
            os.kill(pid, signum)
        except OSError:
            pass


def _reap(main: int, status: list[int | None]) -> bool:
    """Reap every ended child without blocking; keep the main child's status. False when no child is left."""
    while True:
        try:
            pid, code = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return True
        if pid == main:
            status[0] = code


def _end_tree(main: int, status: list[int | None], grace: float) -> None:
    """SIGTERM every descendant (when ``grace`` > 0), wait up to ``grace`` seconds, SIGKILL the rest, reap all."""
    if not _reap(main, status):
        return  # no child at all: as a subreaper, then no descendant either (no /proc scan)
    me = os.getpid()
    if grace > 0:
        signal_all(descendants(me), signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _reap(main, status) and descendants(me):
            time.sleep(0.01)
    for _ in range(1000):  # a tree that forks while it is killed: repeat until nothing is left
        left = descendants(me)
        if not left:
            break
        signal_all(left, signal.SIGKILL)
        _reap(main, status)
        time.sleep(0.001)
    while _reap(main, status):
        time.sleep(0.001)


_CHUNK = 1 << 20
#: Pipe buffer asked for (Linux F_SETPIPE_SZ): the writer blocks, and the two processes
#: switch, once per megabyte rather than once per 64 KiB.
_PIPE_SIZE = 1 << 20


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Copy:
    """Copies one pipe to one file, keeping at most the last ``limit`` bytes (plus one line)
    of the file once it holds ``2 * limit`` (``limit`` 0: everything)."""

    def __init__(self, source: int, target: int, limit: int) -> None:
        self.source, self.target, self.limit = source, target, limit
        self.total = self.size = 0
        self.broken = False

    def step(self) -> bool:
        """Copy what the pipe holds now (one read); False at its end (the pipe is then closed)."""
        try:
            chunk = os.read(self.source, _CHUNK)
        except BlockingIOError:
            return True
        except OSError:
            chunk = b""
        if not chunk:
            os.close(self.source)
            return False
        if self.broken:
            return True  # the target cannot be written: the command's output is lost, not its run
        try:
            _write_all(self.target, chunk)
            self.total += len(chunk)
            self.size += len(chunk)
            limit = self.limit
            if limit and self.size >= 2 * limit:
                tail = os.pread(self.target, limit, self.size - limit)
                line = f"[hpo: output over {limit} bytes: the first {self.total - len(tail)} bytes are dropped, the last {len(tail)} kept]\n".encode()
                os.ftruncate(self.target, 0)
                os.lseek(self.target, 0, os.SEEK_SET)
                _write_all(self.target, line + tail)
                self.size = len(line) + len(tail)
        except OSError:
            self.broken = True
        return True


def _copy_until(copies: dict[int, Copy], wake: int, done: Callable[[], bool], deadline: float | None = None) -> None:
    """Copy the pipes until ``done()`` (checked first, then each time ``wake`` is readable: a signal
    came) or ``deadline`` (monotonic seconds); a pipe at its end leaves ``copies``."""
    if done():
        return
    while True:
        timeout = None if deadline is None else max(deadline - time.monotonic(), 0.0)
        try:
            readable, _, _ = select.select([*copies, wake], [], [], timeout)
        except InterruptedError:
            continue
        if not readable and deadline is not None:
            return
        for fd in readable:
            if fd != wake and not copies[fd].step():
                del copies[fd]
        if wake in readable:
            _drain(wake)
        if (wake in readable or not copies) and done():
            return


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 4096):
            pass
    except (BlockingIOError, InterruptedError):
        pass


def _tidy(folders: tuple[str, ...] | list[str], files: tuple[str, ...] = ()) -> None:
    """Remove ``files``, and each of ``folders`` when it is empty; best effort."""
    for path in files:
        try:
            os.unlink(path)
        except OSError:
            pass
    for path in folders:
        try:
            os.rmdir(path)
        except OSError:
            pass


def _exit_code(status: int | None) -> int | None:
    """A wait status as an exit code: negative for a signal; ``None`` when unknown."""
    if status is None:
        return None
    return -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)


def _tell_done(fd: int | None, exit_code: int | None) -> None:
    """Write the exit code (``?``: unknown) and close ``fd``: the trial's tree is gone and its output copied."""
    if fd is None:
        return
    try:
        os.write(fd, f"{'?' if exit_code is None else exit_code}\n".encode())
    except OSError:
        pass
    os.close(fd)


def _write_status(path: str, status: int | None, stopped: bool) -> None:
    if not path:
        return
    exit_code = _exit_code(status)
    try:
        temporary = f"{path}.tmp"
        with open(temporary, "w", encoding="utf-8") as stream:  # JSON by hand: importing json costs the launch ~8 ms
            code = "null" if exit_code is None else str(exit_code)
            stream.write(f'{{"exit_code": {code}, "stopped": {"true" if stopped else "false"}, "ended_at": {time.time()!r}}}\n')
        os.replace(temporary, path)
    except OSError:
        pass


def _exit_like(status: int | None) -> None:
    """Exit with the main child's status: its exit code, or killed by its signal."""
    for signum in _STOP_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    if status is not None and os.WIFSIGNALED(status):
        signum = os.WTERMSIG(status)
        signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
        sys.exit(128 + signum)
    sys.exit(os.WEXITSTATUS(status) if status is not None else 1)


def main(argv: list[str]) -> None:
    """The script: ``launcher.py PARENT_PID GRACE STATUS_FILE OUTPUT_LIMIT -- argv...`` (the fallback without a fork server)."""
    parent, grace, status_path, limit = int(argv[1]), float(argv[2]), argv[3], int(argv[4])
    run(argv[argv.index("--") + 1 :], None, parent=parent, grace=grace, status_path=status_path, limit=limit)


def run(
    command: list[str], env: dict[str, str] | None, *, parent: int, grace: float, status_path: str, limit: int,
    done_fd: int | None = None, log_paths: tuple[str, str] | None = None, empty_folders: tuple[str, ...] = (),
) -> None:
    """Be the launcher of ``command`` (run with ``env``; ``None``: this process's) and exit as it did; never returns.

    Called in a fresh process: the script's, or a child that the fork server
    (:mod:`~hpo_engine.runner.trials.fork_server`) forked, whose stdout and stderr are the trial's
    log files and whose current folder is the trial's. ``parent`` is the pid whose death ends the trial.
    ``done_fd`` (not inherited by the command) gets the exit code once the tree is gone and the
    output copied, just before the launcher exits: the engine need not wait for its exit.
    ``log_paths`` (the files behind stdout and stderr) are removed before that when the command
    wrote nothing to them; ``empty_folders`` are removed after it when empty (removing a folder
    can take milliseconds of waiting on a busy disk: not on the engine's path to the next trial).
    """
    if done_fd is not None:
        os.set_inheritable(done_fd, False)
    for signum in _STOP_SIGNALS:
        signal.signal(signum, _on_stop)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the parent died before the line above: start nothing
        sys.exit(128 + signal.SIGTERM)
    status: list[int | None] = [None]
    stopped = False
    stop_signal = signal.SIGTERM
    main_pid = -1
    pipes = [os.pipe(), os.pipe()]  # the command's stdout and stderr
    for read_end, _ in pipes:
        os.set_blocking(read_end, False)
        try:
            fcntl.fcntl(read_end, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        except (AttributeError, OSError):
            pass  # not Linux, or over /proc/sys/fs/pipe-max-size: the default buffer
    wake_read, wake_write = os.pipe()  # a byte per signal: a SIGCHLD wakes the copy loop
    for fd in (wake_read, wake_write):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_write, warn_on_full_buffer=False)
    signal.signal(signal.SIGCHLD, lambda _signum, _frame: None)
    copies: dict[int, Copy] = {}
    all_copies: list[Copy] = []

    def main_ended() -> bool:
        if status[0] is None:
            _reap(main_pid, status)
        return status[0] is not None

    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)  # no _Stop while the command is spawned
        # posix_spawn (vfork and exec): no copy of this process's page tables, unlike fork()
        actions = [(os.POSIX_SPAWN_DUP2, write_end, stream) for stream, (_read_end, write_end) in zip((1, 2), pipes)]
        try:
            main_pid = os.posix_spawn(
                command[0], command, os.environ if env is None else env, file_actions=actions,
                setsigmask=(), setsigdef=(*_STOP_SIGNALS, signal.SIGCHLD),
            )
        except OSError:
            status[0] = 127 << 8  # as a shell reports a command it cannot run: exit code 127
        for stream, (read_end, write_end) in zip((1, 2), pipes):
            os.close(write_end)
            copies[read_end] = Copy(read_end, stream, limit)
        all_copies = list(copies.values())
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        # copy the output while the command runs; its end (and an adopted orphan's) is a SIGCHLD
        _copy_until(copies, wake_read, main_ended)
    except _Stop as stop:
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        stopped = True
        stop_signal = stop.signum
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)  # the tree is ended once, whatever comes now
    if not stopped:
        _write_status(status_path, status[0], stopped=False)  # before the leftovers are killed
        _end_tree(main_pid, status, grace=0.0)
    else:
        _end_tree(main_pid, status, grace=grace)
        _write_status(status_path, status[0], stopped=True)
    # every writer is gone: the pipes are at their end
    _copy_until(copies, wake_read, lambda: not copies, deadline=time.monotonic() + 5.0)
    if log_paths is not None:
        for path, copy in zip(log_paths, all_copies):
            if copy.total == 0 and not copy.broken:
                _tidy((), files=(path,))
    if stopped and status[0] is None:
        # the main child's status was lost to the stop signal (it came between waitpid and the
        # assignment): the trial ended because it was stopped, so end as stopped by that signal
        _tell_done(done_fd, -stop_signal)
        _tidy(empty_folders)
        _exit_like(stop_signal)  # a wait status whose low 7 bits are the signal: killed by it
    _tell_done(done_fd, _exit_code(status[0]))
    _tidy(empty_folders)
    _exit_like(status[0])


if __name__ == "__main__":
    main(sys.argv)
