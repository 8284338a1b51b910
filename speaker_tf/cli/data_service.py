"""`speaker-tf data-service dispatcher|worker`: the servers of a tf.data service for `--data-service`."""

from __future__ import annotations

import argparse
import socket

HELP = "run a tf.data service dispatcher or worker for training with --data-service (runs until killed)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("role", choices=["dispatcher", "worker"])
    parser.add_argument("--port", type=int, default=0, help="port to listen on (0: any free port, printed)")
    parser.add_argument(
        "--dispatcher", help="worker: the dispatcher, grpc://HOST:PORT (the address given to --data-service)"
    )
    parser.add_argument(
        "--worker-address",
        help="worker: HOST:PORT the trainers reach this worker at (default localhost:PORT, same host only)",
    )
    parser.add_argument(
        "--work-dir", help="dispatcher: folder for its journal, so a restarted dispatcher resumes its jobs"
    )


def run(args: argparse.Namespace) -> int:
    from speaker_tf.data.service import start_dispatcher, start_worker

    if args.role == "dispatcher":
        server = start_dispatcher(args.port, args.work_dir)
        address = f"grpc://{socket.gethostname()}:{server.target.rsplit(':', 1)[1]}"
        print(f"tf.data service dispatcher at {address}: train with --data-service {address}")
    else:
        if not args.dispatcher:
            raise ValueError("a worker needs --dispatcher grpc://HOST:PORT")
        server = start_worker(args.dispatcher, args.port, args.worker_address)
        where = args.worker_address or (f"localhost:{args.port}" if args.port else "a free port")
        print(f"tf.data service worker at {where}, registered with {args.dispatcher}")
    server.join()
    return 0
