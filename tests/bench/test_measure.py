"""How the benchmark adds up a process tree's memory: every process once, an address space once (a
vfork child before its exec, as the JVM starts its `chmod`s, shows its parent's whole resident set)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import psutil

from bench.measure import shares_memory, tree_rss

_HOLD = """
import sys, time
block = b"x" * (200 * 2**20)  # written, so resident
print("ready", flush=True)
sys.stdin.read()
"""


def test_shares_memory_tells_one_address_space_from_two() -> None:
    # GIVEN this process, one of its threads (same address space) and a forked child (its own)
    me = os.getpid()
    seen: list[int] = []
    go = threading.Event()
    thread = threading.Thread(target=lambda: (seen.append(threading.get_native_id()), go.wait(5)))
    thread.start()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child only waits to be compared
        time.sleep(2)
        os._exit(0)
    try:
        # THEN the thread shares this process's memory, the forked child does not
        assert shares_memory(me, me)
        assert shares_memory(seen[0], me)
        assert not shares_memory(child, me)
    finally:
        go.set()
        thread.join()
        os.kill(child, 9)
        os.waitpid(child, 0)


_PARENT = f"""
import subprocess, sys
child = subprocess.Popen([sys.executable, "-c", {_HOLD!r}], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
print(child.pid, child.stdout.readline().strip(), flush=True)
sys.stdin.read()
child.communicate("")
"""


def test_tree_rss_counts_a_child_with_its_own_memory() -> None:
    # GIVEN a parent process whose only child holds 200 MB it wrote (a tree of its own: the test
    # process may have other children, e.g. the session's Spark JVM)
    parent = subprocess.Popen(
        [sys.executable, "-c", _PARENT], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert parent.stdout is not None
        pid, ready = parent.stdout.readline().split()
        assert ready == "ready"
        tree = psutil.Process(parent.pid)
        assert [c.pid for c in tree.children(recursive=True)] == [int(pid)]
        own = tree.memory_info().rss
        # WHEN the parent's tree is summed
        total = tree_rss(tree)
        # THEN the child's 200 MB are in it, once
        child = psutil.Process(int(pid)).memory_info().rss
        assert child > 200 * 2**20
        assert own + child * 0.95 <= total <= own + child * 1.05 + 50 * 2**20
    finally:
        parent.communicate("")
