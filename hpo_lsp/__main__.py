"""``hpo-lsp`` / ``python -m hpo_lsp``: start the language server (stdio by default)."""

from __future__ import annotations

import argparse
import logging
import sys

from . import __version__

__all__ = ["main"]


def _host_port(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not port.isdigit():
        raise argparse.ArgumentTypeError(f"expected HOST:PORT, got {value!r}")
    return host or "127.0.0.1", int(port)


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and serve until the client exits."""
    parser = argparse.ArgumentParser(prog="hpo-lsp", description="Language server for HPO experiment manifests.")
    transport = parser.add_mutually_exclusive_group()
    transport.add_argument("--stdio", action="store_true", help="talk over stdin/stdout (the default)")
    transport.add_argument("--tcp", metavar="HOST:PORT", type=_host_port, help="listen on a TCP socket instead")
    parser.add_argument("--log-file", help="write the server's own log to this file")
    parser.add_argument("--log-level", default="WARNING", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--version", action="version", version=f"hpo-lsp {__version__}")
    args = parser.parse_args(argv)

    handler = logging.FileHandler(args.log_file) if args.log_file else logging.StreamHandler(sys.stderr)
    logging.basicConfig(level=getattr(logging, args.log_level), format="%(asctime)s %(levelname)s %(name)s: %(message)s", handlers=[handler])
    if args.tcp:
        from .setup import create_server

        host, port = args.tcp
        create_server().start_tcp(host, port)
    else:
        from .early import serve

        serve()  # the first diagnostics before lsprotocol is imported, then the full server
    return 0


if __name__ == "__main__":
    sys.exit(main())
