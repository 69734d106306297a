"""Processes that make the theory lab's frames for a server, so that labs never compete for its GIL."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
import threading
import time

import torch
from PIL import Image

from .live import Lab, frame, move

__all__ = ["LabProcesses"]


def _start_worker(server: int, niceness: int = 0) -> None:
    """Set up a process that makes lab frames for the app (``frame``): one torch thread (a toy step
    is microseconds of arithmetic; more threads only compete), ``niceness``, and an exit as soon as
    the server process is gone, killed or stopped (it cannot always say so)."""
    torch.set_num_threads(1)
    os.nice(niceness)

    def exit_with_server():
        while os.getppid() == server:
            time.sleep(1.0)
        os._exit(0)

    threading.Thread(target=exit_with_server, daemon=True).start()
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot



class LabProcesses:
    """Processes that make lab frames (``frame``) for a server, one per core, started when first needed.

    Labs train and draw there, not in the server's threads: a frame is mostly Python (matplotlib,
    small torch ops), and labs playing in the server's threads slow each other and every other
    visitor through the GIL (``bench/load.py`` measures both ways). The processes are spawned (a
    server's threads are never forked), run at ``niceness`` (labs fill idle CPU; other requests come
    first), and exit when the server does. The labs themselves live in the users' sessions, so
    processes that die (killed, out of memory) are replaced and the frame is made again.
    """

    def __init__(self, workers: int, *, niceness: int = 0):
        self.workers, self.niceness = workers, niceness
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _processes(self) -> concurrent.futures.ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = concurrent.futures.ProcessPoolExecutor(
                    self.workers, mp_context=multiprocessing.get_context("spawn"), initializer=_start_worker,
                    initargs=(os.getpid(), self.niceness),
                )
            return self._pool

    def frame(self, lab: Lab, **budget) -> tuple[Lab, Image.Image, dict]:
        """``frame(lab, **budget)`` in one of the processes."""
        return self._run(frame, lab, **budget)

    def move(self, lab: Lab, player: str, times: int = 1) -> tuple[Lab, Image.Image, dict]:
        """``move(lab, player, times)`` in one of the processes."""
        return self._run(move, lab, player, times)

    def _run(self, work, *args, **kwargs):
        pool = self._processes()
        try:
            return pool.submit(work, *args, **kwargs).result()
        except concurrent.futures.process.BrokenProcessPool:
            self._forget(pool)
            return self._processes().submit(work, *args, **kwargs).result()

    def _forget(self, broken: concurrent.futures.ProcessPoolExecutor) -> None:
        """Drop broken processes (several frames may find them broken at once: only the first does)."""
        with self._lock:
            if self._pool is broken:
                self._pool = None
        broken.shutdown(wait=False, cancel_futures=True)

    def start(self) -> None:
        """Start every process now and wait until each has imported what a frame needs."""
        pool = self._processes()
        for done in [pool.submit(time.sleep, 0.5) for _ in range(self.workers)]:
            done.result()


