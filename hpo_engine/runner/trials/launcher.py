"""The trial launcher: the process between the engine and a trial's command, that ends the trial's whole tree.

Run as a script (``python -I -S launcher.py PARENT_PID GRACE STATUS_FILE OUTPUT_LIMIT -- argv...``) by
:func:`hpo_engine.runner.trials.process.start_process`; it imports nothing but the standard
library, so it starts in a few milliseconds. On Linux it

- becomes a *child subreaper* (``prctl(PR_SET_CHILD_SUBREAPER)``): every process the trial
  starts stays its descendant, even one that forks, calls ``setsid()`` and is left behind
  by its parent (it is re-parented to the launcher, not to init);
- asks for SIGTERM when the engine thread that started it dies (``prctl(PR_SET_PDEATHSIG)``),
  so a SIGKILLed ``hpo run`` does not leave the trial running;
- runs ``argv`` (``/bin/sh -c COMMAND``) in its own process group, waits for it, writes
  ``STATUS_FILE`` (JSON: ``exit_code``, negative for a signal; ``stopped``, true when the
  launcher was told to stop the trial before it ended; ``ended_at``, seconds since the
  epoch), then SIGKILLs whatever the trial left behind and reaps it;
- on SIGTERM, SIGINT or SIGHUP (the engine stopping the trial, or the engine gone), sends
  SIGTERM to every descendant, waits up to GRACE seconds, SIGKILLs the rest;
- copies the command's stdout and stderr (pipes) to its own (the trial's ``stdout.log`` and
  ``stderr.log``), keeping at most the last OUTPUT_LIMIT bytes of each: when a file reaches
  twice that, it is rewritten as one line saying how much was dropped plus the last
  OUTPUT_LIMIT bytes (0: no limit). The trial is not slowed: the copy is a read and a write
  per megabyte (a 1 MiB pipe), and a rewrite per OUTPUT_LIMIT bytes.

It exits as its command did (the same code, or killed by the same signal), so the engine
sees the command's own exit status. Elsewhere than Linux the prctl calls are skipped and
only the process group is ended.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

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


def _prctl(option: int, value: int) -> bool:
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


def _signal_all(pids: list[int], signum: int) -> None:
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
        _signal_all(descendants(me), signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and _reap(main, status) and descendants(me):
            time.sleep(0.01)
    for _ in range(1000):  # a tree that forks while it is killed: repeat until nothing is left
        left = descendants(me)
        if not left:
            break
        _signal_all(left, signal.SIGKILL)
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


def pump(source: int, target: int, limit: int) -> None:
    """Copy ``source`` to ``target`` until end of file, keeping at most the last ``limit`` bytes
    (plus one line) of ``target`` once it holds ``2 * limit`` (``limit`` 0: everything)."""
    total = size = 0
    try:
        while True:
            chunk = os.read(source, _CHUNK)
            if not chunk:
                return
            _write_all(target, chunk)
            total += len(chunk)
            size += len(chunk)
            if limit and size >= 2 * limit:
                tail = os.pread(target, limit, size - limit)
                line = f"[hpo: output over {limit} bytes: the first {total - len(tail)} bytes are dropped, the last {len(tail)} kept]\n".encode()
                os.ftruncate(target, 0)
                os.lseek(target, 0, os.SEEK_SET)
                _write_all(target, line + tail)
                size = len(line) + len(tail)
    except OSError:
        return  # the target cannot be written: the command's output is lost, not its run
    finally:
        os.close(source)


def _write_status(path: str, status: int | None, stopped: bool) -> None:
    if not path:
        return
    if status is None:
        exit_code = None
    elif os.WIFSIGNALED(status):
        exit_code = -os.WTERMSIG(status)
    else:
        exit_code = os.WEXITSTATUS(status)
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
    parent, grace, status_path, limit = int(argv[1]), float(argv[2]), argv[3], int(argv[4])
    command = argv[argv.index("--") + 1 :]
    for signum in _STOP_SIGNALS:
        signal.signal(signum, _on_stop)
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the engine died before the line above: start nothing
        sys.exit(128 + signal.SIGTERM)
    status: list[int | None] = [None]
    stopped = False
    stop_signal = signal.SIGTERM
    main_pid = -1
    pipes = [os.pipe(), os.pipe()]  # the command's stdout and stderr
    for read_end, _ in pipes:
        try:
            import fcntl

            fcntl.fcntl(read_end, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
        except (ImportError, AttributeError, OSError):
            pass  # not Linux, or over /proc/sys/fs/pipe-max-size: the default buffer
    pumps: list[threading.Thread] = []
    try:
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)  # no _Stop between fork and exec
        main_pid = os.fork()
        if main_pid == 0:
            try:
                for signum in _STOP_SIGNALS:
                    signal.signal(signum, signal.SIG_DFL)
                for stream, (read_end, write_end) in zip((1, 2), pipes):
                    os.dup2(write_end, stream)
                    os.close(read_end)
                    os.close(write_end)
                signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
                os.execv(command[0], command)
            finally:
                os._exit(127)
        for stream, (read_end, write_end) in zip((1, 2), pipes):
            os.close(write_end)
            pumps.append(threading.Thread(target=pump, args=(read_end, stream, limit), daemon=True))
            pumps[-1].start()
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOP_SIGNALS)
        while status[0] is None:
            pid, code = os.waitpid(-1, 0)  # the main child, or an adopted orphan that ended
            if pid == main_pid:
                status[0] = code
    except _Stop as stop:
        signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        stopped = True
        stop_signal = stop.signum
    except ChildProcessError:
        pass
    signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)  # the tree is ended once, whatever comes now
    if not stopped:
        _write_status(status_path, status[0], stopped=False)  # before the leftovers are killed
        _end_tree(main_pid, status, grace=0.0)
    else:
        _end_tree(main_pid, status, grace=grace)
        _write_status(status_path, status[0], stopped=True)
    for thread in pumps:  # every writer is gone: the pipes are at their end
        thread.join(timeout=5.0)
    if stopped and status[0] is None:
        # the main child's status was lost to the stop signal (it came between waitpid and the
        # assignment): the trial ended because it was stopped, so end as stopped by that signal
        _exit_like(stop_signal)  # a wait status whose low 7 bits are the signal: killed by it
    _exit_like(status[0])


if __name__ == "__main__":
    main(sys.argv)
