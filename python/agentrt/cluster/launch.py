"""``agentrt cluster``: N ``agentrt serve`` workers behind SGLang's router (smg) on one machine.

    agentrt cluster --workers 2 --port 30000 [--policy manual] [-- <agentrt serve flags>]

The workers listen on free loopback ports, each with its share of the cores (``OMP_NUM_THREADS``
= cores / workers unless set: two workers that each spread over every core slow each other down
many times over); the router on ``--port``, with ``--policy manual
--assignment-mode min_group`` by default (a session's routing key stays on one worker; new keys go
to the worker with the fewest). For many machines, run ``agentrt serve`` on each and smg with its
own flags: ``python -m smg.launch_router --worker-urls URL1 URL2 --policy manual ...``.
The cluster is ready when the router lists the model and answers a request (smg registers
workers asynchronously: its /health answers before that). Stopping ends every process.
"""
import argparse
import os
import sys
import time
from pathlib import Path
from typing import Optional

import requests

from agentrt.client.managed_server import ManagedServer, ServerStartError, free_port

POLICIES = ("manual", "consistent_hashing", "round_robin", "cache_aware", "random")


class Cluster:
    def __init__(self, workers: int, worker_args: list[str], *, port: Optional[int] = None,
                 policy: str = "manual", log_dir: str | os.PathLike = "/tmp",
                 health_interval_s: int = 2):
        self.worker_args, self.policy, self.health_interval_s = worker_args, policy, \
            health_interval_s
        self.log_dir = Path(log_dir)
        self.port = port  # None: the router takes a free port at its first start
        env = {"OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")
               or str(max(1, (os.cpu_count() or 1) // workers))}
        self.workers = [ManagedServer(worker_args, log_path=self.log_dir / f"worker-{i}.log",
                                      env=env) for i in range(workers)]
        self.router: Optional[ManagedServer] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_timeout_s: float = 300.0) -> "Cluster":
        try:
            for worker in self.workers:
                worker.start()
            self.start_router(self.policy, ready_timeout_s)
        except BaseException:
            self.stop()
            raise
        return self

    def start_router(self, policy: str, ready_timeout_s: float = 300.0) -> None:
        """(Re)start the router with ``policy`` in front of the running workers."""
        self.stop_router()
        self.policy = policy
        self._start_router()
        self._wait_ready(ready_timeout_s)

    def _start_router(self) -> None:
        """smg as a ManagedServer: its own process group, stopped like a worker."""
        args = ["--worker-urls", *[w.url for w in self.workers], "--policy", self.policy,
                "--disable-tokenizer-autoload",
                "--health-check-interval-secs", str(self.health_interval_s),
                "--prometheus-host", "127.0.0.1", "--prometheus-port", str(free_port())]
        if self.policy == "manual":
            args += ["--assignment-mode", "min_group"]
        self.router = ManagedServer(args, port=self.port, module="smg.launch_router",
                                    log_path=self.log_dir / "router.log").start()
        self.port = self.router.port

    def _wait_ready(self, timeout_s: float) -> None:
        """Until the router lists a model and routes a request to a worker."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.router.proc.poll() is not None:
                raise ServerStartError(f"the router exited with code {self.router.proc.returncode}")
            try:
                models = requests.get(f"{self.url}/v1/models", timeout=5).json()["data"]
                probe = requests.post(f"{self.url}/generate", timeout=60, json={
                    "text": "ready?", "sampling_params": {"max_new_tokens": 1}})
                if models and probe.status_code == 200:
                    return
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(0.5)
        raise ServerStartError(f"the router at {self.url} did not route in {timeout_s:.0f} s")

    def kill_worker(self, index: int) -> str:
        """Stop one worker (a vanished worker, for tests); returns its URL."""
        self.workers[index].stop(grace_s=5)
        return self.workers[index].url

    def stop(self) -> None:
        self.stop_router()
        for worker in self.workers:
            worker.stop()

    def stop_router(self) -> None:
        if self.router is not None:
            self.router.stop(grace_s=20)
            self.router = None

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="agentrt cluster", description=__doc__.split("\n")[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=30000)
    parser.add_argument("--policy", choices=POLICIES, default="manual")
    parser.add_argument("--log-dir", default="/tmp")
    own, worker_args = (argv[:argv.index("--")], argv[argv.index("--") + 1:]) if "--" in argv \
        else (argv, [])
    args = parser.parse_args(own)
    if args.workers < 1:
        parser.error("--workers must be >= 1")
    cluster = Cluster(args.workers, worker_args, port=args.port, policy=args.policy,
                      log_dir=args.log_dir)
    try:
        cluster.start()
        print(f"agentrt cluster: router {cluster.url} -> "
              + " ".join(w.url for w in cluster.workers), flush=True)
        while all(w.proc is not None and w.proc.poll() is None for w in cluster.workers):
            time.sleep(1)
        print("agentrt cluster: a worker exited; stopping", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        cluster.stop()
