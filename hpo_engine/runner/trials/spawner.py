"""The engine's side of the fork server: start trial launchers through it, and the running trial's handle.

Each engine process (``hpo run``, or a Ray worker) starts one fork server
(:mod:`hpo_engine.runner.trials.fork_server`) the first time it launches a trial, and keeps it
while it lives: the server is the process's own, like its open files, held in
:class:`ForkServers` (one per process id, so a forked child starts its own). Where the server
cannot run (not Linux: no descriptor passing, no subreaper), each trial runs under the launcher
script as before (``python -I -S launcher.py``; one interpreter start per trial).
Durations are seconds.
"""

from __future__ import annotations

import json
import os
import select
import socket
import struct
import subprocess
import sys
import threading
from pathlib import Path

__all__ = ["FORK_SERVER", "ForkServer", "ForkServers", "TrialProcess", "SERVERS"]

#: The fork server script, run by path with ``python -I -S`` (standard library only).
FORK_SERVER = Path(__file__).with_name("fork_server.py")
_HEADER = struct.Struct(">I")


class TrialProcess:
    """A trial's launcher (its pid is the trial's process group and session), ended or not.

    Started by the fork server, it is not this process's child: the launcher writes the exit
    code to a *done* pipe once the trial's whole tree is gone and its output copied, and the
    end of that pipe without a code means the launcher itself was killed (``returncode``
    ``None``; the fork server then kills what is left). Started by ``Popen`` (the fallback),
    the status is the child's own. ``returncode`` is negative (``-signal``) for a signal.
    """

    def __init__(self, pid: int, *, done_fd: int | None = None, popen: subprocess.Popen[bytes] | None = None) -> None:
        self.pid = pid
        self.returncode: int | None = None
        #: True once the launcher is known to have ended the trial's whole tree itself (it said
        #: so on the done pipe): nothing is left for the engine to look for.
        self.ended_its_tree = False
        self._done_fd = done_fd
        self._popen = popen
        self._ended = False

    def poll(self) -> bool:
        """True once the launcher has ended (``returncode`` then set)."""
        return self.wait(0.0)

    def wait(self, timeout: float | None = None) -> bool:
        """Wait up to ``timeout`` seconds (``None``: no limit) for the launcher to end; True when it has."""
        if self._ended:
            return True
        if self._popen is not None:
            try:
                self.returncode = self._popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                return False
            self._ended = True
            return True
        assert self._done_fd is not None
        try:
            readable, _, _ = select.select([self._done_fd], [], [], timeout)
        except InterruptedError:
            return False
        if not readable:
            return False
        data = b""
        while True:
            chunk = os.read(self._done_fd, 64)
            if not chunk:
                break
            data += chunk
        self.close()
        self._ended = True
        text = data.decode("ascii", "replace").strip()
        if text:
            self.ended_its_tree = True
            self.returncode = int(text) if text.lstrip("-").isdigit() else None
        return True

    def close(self) -> None:
        """Let go of the done pipe (a handle dropped before the launcher's end)."""
        if self._done_fd is not None:
            os.close(self._done_fd)
            self._done_fd = None


class ForkServer:
    """One started fork server and the socket to it; requests are serialised by a lock."""

    def __init__(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.process = subprocess.Popen(
                [sys.executable, "-I", "-S", str(FORK_SERVER), str(theirs.fileno())],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                pass_fds=(theirs.fileno(),), start_new_session=True, close_fds=True,
            )
        except BaseException:
            ours.close()
            raise
        finally:
            theirs.close()
        self.sock = ours
        self.lock = threading.Lock()

    def alive(self) -> bool:
        return self.process.poll() is None

    def spawn(self, request: dict, stdout: int, stderr: int, done: int) -> int:
        """Ask for a launcher; returns its pid. Raises ``OSError`` when the server cannot start it."""
        data = json.dumps(request).encode()
        with self.lock:
            socket.send_fds(self.sock, [_HEADER.pack(len(data)) + data], [stdout, stderr, done])
            buffer, fds = b"", []
            while len(buffer) < _HEADER.size or len(buffer) < _HEADER.size + _HEADER.unpack_from(buffer)[0]:
                chunk, more, _flags, _address = socket.recv_fds(self.sock, 1 << 16, 1, socket.MSG_CMSG_CLOEXEC)
                fds.extend(more)
                if not chunk:
                    for fd in fds:
                        os.close(fd)
                    raise BrokenPipeError("the trial fork server has ended")
                buffer += chunk
        for fd in fds:
            os.close(fd)
        answer = json.loads(buffer[_HEADER.size :])
        if "pid" not in answer:
            raise OSError(f"the trial fork server could not start the trial: {answer.get('error', 'no answer')}")
        return int(answer["pid"])

    def close(self) -> None:
        """Close the socket: the server ends its trials and exits."""
        self.sock.close()


class ForkServers:
    """The fork server of each process (keyed by pid), started on first use and again if it died."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: dict[int, ForkServer] = {}

    @staticmethod
    def supported() -> bool:
        return hasattr(socket, "send_fds") and sys.platform.startswith("linux")

    def server(self) -> ForkServer:
        with self._lock:
            server = self._servers.get(os.getpid())
            if server is None or not server.alive():
                if server is not None:
                    server.close()
                server = self._servers[os.getpid()] = ForkServer()
            return server

    def spawn(self, request: dict, stdout: int, stderr: int) -> TrialProcess:
        """Start a launcher through this process's fork server (restarted once if it has ended)."""
        done_read, done_write = os.pipe()
        try:
            try:
                pid = self.server().spawn(request, stdout, stderr, done_write)
            except (BrokenPipeError, ConnectionError):
                pid = self.server().spawn(request, stdout, stderr, done_write)
        except BaseException:
            os.close(done_read)
            raise
        finally:
            os.close(done_write)  # the launcher holds the only write end now
        return TrialProcess(pid, done_fd=done_read)


#: This process's fork servers (the only instance: a server belongs to its process).
SERVERS = ForkServers()
