"""The fork server: one small process per engine process that forks a trial launcher for every trial.

Run as a script (``python -I -S fork_server.py SOCKET_FD``) by
:mod:`hpo_engine.runner.trials.spawner`, once per engine process (the ``hpo run`` process,
or a Ray worker), in its own session; standard library only. Starting a Python interpreter
per trial cost ~30 ms of CPU; forking this already started, small process costs ~1 ms. It

- reads requests on the Unix socket ``SOCKET_FD`` (a 4-byte big-endian length, then JSON:
  ``argv``, ``cwd``, ``env``, ``grace``, ``status``, ``limit``, ``logs`` (the stdout and stderr
  paths, removed when left empty), ``empty_folders`` (removed when left empty); the trial's stdout and stderr
  files and the write end of a *done* pipe passed along as descriptors) and forks a child that
  becomes that trial's launcher (:func:`hpo_engine.runner.trials.launcher.run`: the leader of a
  new session, a subreaper, SIGTERM when this server dies; it writes the exit code to the done
  pipe once the trial's tree is gone); it answers JSON ``{"pid": N}`` (``{"error": "..."}``
  when the request is malformed or the fork failed);
- is a *child subreaper* itself: when a launcher is SIGKILLed, whatever of its trial is still
  running (even a daemon that called ``setsid()``) is re-parented here, and is SIGKILLed at
  once, with everything below it (a process here that is not a launcher belongs to a trial
  whose launcher is gone, so that trial has ended);
- ends everything when the engine is gone: on end of file on the socket (the engine exited or
  was SIGKILLed, so the kernel closed its end) or SIGTERM/SIGHUP, it sends SIGTERM to every
  launcher (each ends its trial's tree after its grace period), waits for them, SIGKILLs what
  is left, and exits. SIGINT (Ctrl-C in the engine's terminal) is ignored: the engine decides.

Times are seconds.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # -I leaves the script's folder out

import launcher  # noqa: E402  (the sibling module, imported as a script's neighbour)

_HEADER = struct.Struct(">I")
#: Seconds given to the launchers past their longest grace period when the engine is gone.
_SHUTDOWN_MARGIN = 2.0


class _Shutdown(BaseException):
    """Raised by SIGTERM or SIGHUP: end every trial and exit."""


def _on_shutdown(_signum: int, _frame: object) -> None:
    raise _Shutdown()


def _children(me: int) -> list[int]:
    """Pids of the living direct children of ``me`` (this single-threaded process)."""
    try:
        with open(f"/proc/{me}/task/{me}/children", "rb") as stream:
            return [int(pid) for pid in stream.read().split()]
    except OSError:
        return [pid for pid in launcher.descendants(me) if _parent(pid) == me]


def _parent(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/stat", "rb") as stream:
            stat = stream.read().decode("ascii", "replace")
        return int(stat[stat.rfind(")") + 2 :].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


class Server:
    """The server's state: the socket to the engine and the living launchers (pid -> grace seconds)."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.me = os.getpid()
        self.launchers: dict[int, float] = {}
        self.wake_read, self.wake_write = os.pipe()
        os.set_blocking(self.wake_read, False)
        os.set_blocking(self.wake_write, False)

    def serve(self) -> None:
        """Answer requests until the engine is gone, then end every trial."""
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, lambda _s, _f: None)
        signal.set_wakeup_fd(self.wake_write, warn_on_full_buffer=False)
        launcher.prctl(launcher.PR_SET_CHILD_SUBREAPER, 1)
        try:
            for signum in (signal.SIGTERM, signal.SIGHUP):
                signal.signal(signum, _on_shutdown)
            while True:
                try:
                    readable, _, _ = select.select([self.sock, self.wake_read], [], [])
                except InterruptedError:
                    continue
                if self.wake_read in readable:
                    self._drain_wake()
                    self.reap()
                if self.sock in readable and not self.handle_request():
                    break
        except _Shutdown:
            pass
        for signum in (signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_IGN)
        self.end_all()

    def _drain_wake(self) -> None:
        try:
            while os.read(self.wake_read, 4096):
                pass
        except BlockingIOError:
            pass

    def reap(self) -> None:
        """Reap every ended child, then SIGKILL any child that is not a launcher (with its tree)."""
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                break
            self.launchers.pop(pid, None)
        orphans = [pid for pid in _children(self.me) if pid not in self.launchers]
        for orphan in orphans:  # a trial whose launcher was killed: end what is left of it
            launcher.signal_all([orphan, *launcher.descendants(orphan)], signal.SIGKILL)

    def handle_request(self) -> bool:
        """Start one launcher; False when the engine has closed its end."""
        data, fds = self._receive()
        if data is None:
            return False
        try:
            request = json.loads(data)
            if len(fds) != 3:
                raise ValueError(f"{len(fds)} descriptors, not 3 (stdout, stderr, done)")
            pid = os.fork()
        except (OSError, ValueError) as exc:
            for fd in fds:
                os.close(fd)
            self._answer({"error": str(exc)}, [])
            return True
        if pid == 0:
            self._be_launcher(request, fds)  # never returns
        for fd in fds:
            os.close(fd)
        self.launchers[pid] = float(request.get("grace", 0.0))
        self._answer({"pid": pid}, [])
        return True

    def _be_launcher(self, request: dict, fds: list[int]) -> None:
        code = 127
        try:
            signal.set_wakeup_fd(-1)
            for signum in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(signum, signal.SIG_DFL)
            os.close(self.wake_read)
            os.close(self.wake_write)
            self.sock.close()
            os.setsid()  # its own session and process group: the engine signals the group
            stdout, stderr, done = fds
            os.dup2(stdout, 1)
            os.dup2(stderr, 2)
            os.close(stdout)
            os.close(stderr)
            os.chdir(request["cwd"])
            launcher.run(
                request["argv"], request["env"], parent=self.me, grace=float(request["grace"]),
                status_path=request["status"], limit=int(request["limit"]), done_fd=done,
                log_paths=tuple(request["logs"]) if request.get("logs") else None,
                empty_folders=tuple(request.get("empty_folders", ())),
            )
        except SystemExit as done:
            code = done.code if isinstance(done.code, int) else 1
        except BaseException:  # noqa: BLE001 - nothing may return into the server's loop
            code = 127
        os._exit(code)

    def _receive(self) -> tuple[bytes | None, list[int]]:
        fds: list[int] = []
        buffer = b""
        while len(buffer) < _HEADER.size or len(buffer) < _HEADER.size + _HEADER.unpack_from(buffer)[0]:
            try:
                chunk, more, _flags, _address = socket.recv_fds(self.sock, 1 << 16, 4)
            except InterruptedError:
                continue
            except OSError:
                chunk, more = b"", []
            fds.extend(more)
            if not chunk:
                for fd in fds:
                    os.close(fd)
                return None, []
            buffer += chunk
        return buffer[_HEADER.size :], fds

    def _answer(self, answer: dict, fds: list[int]) -> None:
        data = json.dumps(answer).encode()
        try:
            socket.send_fds(self.sock, [_HEADER.pack(len(data)) + data], fds)
        except OSError:
            pass  # the engine is gone: the next read sees the end of file

    def end_all(self) -> None:
        """SIGTERM every launcher, wait for them (their grace plus a margin), SIGKILL what is left."""
        deadline = time.monotonic() + max(self.launchers.values(), default=0.0) + _SHUTDOWN_MARGIN
        launcher.signal_all(list(self.launchers), signal.SIGTERM)
        while self.launchers and time.monotonic() < deadline:
            select.select([self.wake_read], [], [], 0.05)
            self._drain_wake()
            self.reap()
        for _ in range(100):
            left = launcher.descendants(self.me)
            if not left:
                break
            launcher.signal_all(left, signal.SIGKILL)
            time.sleep(0.01)
            self.reap()


def main(argv: list[str]) -> None:
    Server(socket.socket(fileno=int(argv[1]))).serve()


if __name__ == "__main__":
    main(sys.argv)
