"""Helpers for command-line tests that run in this process (fast) instead of a subprocess.

:func:`run_cli` calls :func:`sim.cli.main.main` (what ``python -m sim`` and ``balancing-sim``
call) with the given arguments, working directory and environment, captures stdout and stderr
and restores everything afterwards. :func:`tree` lists a folder's content, so a test can check
that a bad input wrote nothing anywhere.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str


def run_cli(args: list[str], cwd: Path, env: dict[str, str] | None = None) -> Result:
    """``python -m sim <args>`` in this process, from ``cwd``, with ``env`` added."""
    from sim.cli.main import main

    saved_argv, saved_cwd = sys.argv, os.getcwd()
    saved_env = {k: os.environ.get(k) for k in (env or {})}
    out, err = io.StringIO(), io.StringIO()
    try:
        os.chdir(cwd)
        os.environ.update(env or {})
        sys.argv = ["sim", *args]
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main()
    finally:
        sys.argv = saved_argv
        os.chdir(saved_cwd)
        for k, v in saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    return Result(code, out.getvalue(), err.getvalue())


def tree(root: Path) -> set[str]:
    """Every file and folder under ``root`` (relative paths, hidden ones included)."""
    return {str(p.relative_to(root)) for p in Path(root).rglob("*")}


def assert_one_line(res: Result, expected: str, code: int = 2) -> str:
    """Exit status ``code``, one line on stderr starting with 'error: ' and holding ``expected``."""
    err = res.err.strip()
    assert res.code == code, (res.code, res.err, res.out)
    assert "Traceback" not in res.err, res.err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("error: "), err
    assert expected in err, f"{expected!r} not in {err!r}"
    return err


@contextlib.contextmanager
def read_only(folder: Path):
    """``folder`` made unwritable for this process (chmod, or chattr +i when running as root)."""
    import subprocess

    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o555)
    undo = ["chmod"]
    probe = folder / ".probe"
    try:
        probe.touch()
        probe.unlink()
        writable = True
    except OSError:
        writable = False
    if writable:  # root ignores permissions: try the immutable attribute
        ok = subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode == 0
        if not ok:
            folder.chmod(0o755)
            pytest.skip("cannot make a folder read-only here (root without chattr)")
        undo.append("chattr")
    try:
        yield folder
    finally:
        if "chattr" in undo:
            subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
        folder.chmod(0o755)


def forked(fn, kill_when=None, timeout: float = 300.0, output: Path | None = None) -> int:
    """Run ``fn()`` in a forked child (no new interpreter, so no import time) and wait.

    The child's exit status is ``fn()``'s return value; stdout and stderr go to ``output``
    (or nowhere). If ``kill_when()`` becomes true while the child runs, the child is killed
    with SIGKILL. Returns the exit status (``-9`` when killed by SIGKILL, by us or by a fault
    point).
    """
    import signal
    import time

    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 99
        try:
            target = os.open(output or os.devnull, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(target, 1)
            os.dup2(target, 2)
            sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
            sys.stderr = sys.stdout
            code = int(fn() or 0)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001
            import traceback

            traceback.print_exc()
        finally:
            try:
                sys.stdout.flush()
            finally:
                os._exit(code)
    deadline = time.monotonic() + timeout
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        if kill_when is not None and kill_when():
            os.kill(pid, signal.SIGKILL)
            kill_when = None
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            raise TimeoutError(f"child {pid} still running after {timeout} s")
        time.sleep(0.005)


def main_in_child(args: list[str], cwd: Path, env: dict[str, str] | None = None):
    """A function for :func:`forked`: ``python -m sim <args>`` from ``cwd`` with ``env``."""

    def fn() -> int:
        from sim.cli.main import main

        os.chdir(cwd)
        os.environ.update(env or {})
        sys.argv = ["sim", *args]
        return main()

    return fn
