"""nbgrader's Execute preprocessor, hardened for untrusted submissions (``nbgrader_config.py`` uses it).

- **Sandbox**: kernels start through ``autograde.sandbox.SandboxedKernelManager``.
- **Tests a notebook cannot switch off**: before the first cell, the grader installs the guard of
  ``autograde.kernel_guard`` in the kernel (with a key of its own); before each graded test cell
  it asks the guard to put back the kernel's hooks and say what the notebook changed. The reply
  must carry the key's signature. A notebook that changed a hook, or a guard that does not answer
  properly, fails that test cell and every later one with a ``HooksTampered`` error that names
  what changed; the test is not run.
- **Kernel death**: a cell that kills the kernel (``os._exit``, a crash, the sandbox's memory cap)
  gets a ``KernelDied`` (or ``SandboxLimit``) error; the kernel is restarted, the cells that had
  completed are run again quietly to rebuild the state, and grading goes on with the next cell,
  so the cells before the crash and after it keep their credit. After three deaths the remaining
  cells are not run and say why.

Grades are still nbgrader's: SaveAutoGrades reads them from the executed notebook, in the grader's
process.
"""
from __future__ import annotations

import ast
import hashlib
import hmac
import inspect
import secrets
import sys
from pathlib import Path

from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Integer

from autograde import kernel_guard

TRUSTED_ROOTS = ("course", "pyspark")
MAX_DEATHS = 3
COURSE_DIR = Path(__file__).resolve().parents[1] / "course"


def _error(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


def _is_graded_test(cell) -> bool:
    """A graded cell whose points come from its outputs (nbgrader's test cell, not an answer)."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def imports_of(source: str) -> tuple[set[str], dict[str, tuple[str, str | None]]]:
    """The course and PySpark modules a cell imports, and the names its imports bind:
    name -> (module, attribute or None for the module itself)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(), {}
    modules, names = set(), {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in TRUSTED_ROOTS:
                    modules.add(alias.name)
                    if alias.asname:
                        names[alias.asname] = (alias.name, None)
                    else:
                        top = alias.name.split(".")[0]
                        names[top] = (top, None)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] in TRUSTED_ROOTS:
                modules.add(node.module)
                for alias in node.names:
                    if alias.name != "*":
                        names[alias.asname or alias.name] = (node.module, alias.name)
    return modules, names


def names_read(source: str) -> list[str]:
    """Global names a test cell reads (the ones it does not bind first are what the notebook gave it)."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    read = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    return sorted(read)


class GuardedExecute(Execute):
    """Execute, with the kernel guard before graded test cells and restarts after kernel deaths."""

    max_deaths = Integer(MAX_DEATHS, help="Kernel deaths after which the rest of a notebook is not run").tag(
        config=True)

    def __init__(self, *args, **kwargs):
        from autograde.sandbox import SandboxedKernelManager

        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        # a graded kernel has nothing to save: stop it at once rather than wait for it to exit
        kwargs.setdefault("shutdown_kernel", "immediate")
        super().__init__(*args, **kwargs)

    # -- per notebook -----------------------------------------------------------------------
    def preprocess(self, nb, resources=None, km=None):
        self._key = secrets.token_hex(16)
        self._module_name = "_grading_guard_" + secrets.token_hex(4)
        self._guard_ready = False
        self._tampered = ""
        self._deaths = 0
        self._completed: list[int] = []   # indexes of code cells that ran to their end
        modules, names = set(), {}
        for cell in nb.cells:
            if cell.cell_type == "code":
                found_modules, found_names = imports_of(cell.source)
                modules |= found_modules
                names.update(found_names)
        self._guard_config = {
            "key": self._key, "module_name": self._module_name, "roots": list(TRUSTED_ROOTS),
            "trusted_dirs": sorted({sys.prefix, sys.base_prefix, str(COURSE_DIR)}),
            "modules": sorted(modules), "names": names,
        }
        return super().preprocess(nb, resources, km)

    async def _quiet(self, code: str = "", expressions: dict | None = None) -> dict:
        """Run ``code`` silently (no history, no outputs kept) and return the reply's content."""
        msg_id = self.kc.execute(code, silent=True, store_history=False, user_expressions=expressions or {},
                                 stop_on_error=False)
        reply = await self.async_wait_for_reply(msg_id)
        if reply is None:
            return {"status": "timeout"}
        return reply["content"]

    async def _install_guard(self) -> None:
        source = inspect.getsource(kernel_guard)
        code = f"{source}\ninstall({self._guard_config!r})\ndel install\n"
        reply = await self._quiet(code)
        self._guard_ready = reply.get("status") == "ok"
        if self._guard_ready:   # the state is remembered where it is checked: in a user expression
            self._guard_ready = await self._call_guard("take", []) == ""
        if not self._guard_ready:
            self.log.warning("The grading guard could not be installed: %s", reply.get("evalue", reply))

    async def _ask_guard(self, cell) -> str:
        """'' when the kernel is as the guard left it; otherwise what the notebook changed."""
        if not self._guard_ready:
            return "the grading guard is not installed in this kernel"
        return await self._call_guard("check", names_read(cell.source))

    async def _call_guard(self, method: str, names: list[str]) -> str:
        nonce = secrets.token_hex(8)
        expression = f"__import__('sys').modules[{self._module_name!r}].{method}({nonce!r}, {names!r})"
        reply = await self._quiet("", {"guard": expression})
        result = reply.get("user_expressions", {}).get("guard", {})
        text = result.get("data", {}).get("text/plain", "") if result.get("status") == "ok" else ""
        try:
            signature, verdict = ast.literal_eval(text).split(" ", 1)
        except (ValueError, SyntaxError, AttributeError):
            return "the grading guard did not answer (a replaced import or guard)"
        expected = hmac.new(self._key.encode(), (nonce + "\n" + verdict).encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(signature, expected):
            return "the grading guard's answer was forged"
        return verdict

    # -- per cell ---------------------------------------------------------------------------
    async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
        if cell.cell_type != "code" or not cell.source.strip():
            return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        if self._deaths >= self.max_deaths:
            cell.outputs = [_error("KernelDied", f"not run: the kernel died {self._deaths} times in this notebook")]
            return cell
        if not self._guard_ready and not self._tampered and self._deaths == 0 and not self._completed:
            await self._install_guard()
        if _is_graded_test(cell):
            if not self._tampered:
                self._tampered = await self._ask_guard(cell)
            if self._tampered:
                cell.outputs = [_error("HooksTampered", f"the notebook changed how the kernel runs tests: "
                                                        f"{self._tampered}. This test was not run.")]
                return cell
        try:
            cell = await super().async_execute_cell(cell, cell_index, execution_count, store_history)
        except DeadKernelError:
            await self._after_death(cell, cell_index)
            return cell
        self._completed.append(cell_index)
        return cell

    # nbclient binds its synchronous wrapper to its own coroutine: bind it to this one
    execute_cell = run_sync(async_execute_cell)

    async def _after_death(self, cell, cell_index) -> None:
        self._deaths += 1
        limit = getattr(self.km, "last_limit_hit", None)
        process = getattr(getattr(self.km, "provisioner", None), "process", None)
        code = process.poll() if process is not None else None
        how = f"the kernel exited with code {code}" if code is not None else "the kernel stopped responding"
        output = _error("SandboxLimit", limit) if limit else _error("KernelDied", f"{how} while this cell ran")
        cell.outputs = list(cell.get("outputs", [])) + [output]
        self.log.warning("Kernel died in cell %s (%s); restarting", cell_index, limit or how)
        if self._deaths >= self.max_deaths:
            return
        await self._restart()

    async def _restart(self) -> None:
        """A fresh kernel with the guard, then the completed cells again, quietly."""
        if self.kc is not None:
            self.kc.stop_channels()
        if hasattr(self.km, "last_limit_hit"):
            self.km.last_limit_hit = None
        # same launch arguments (folder, sandbox), same context and connection file
        await self.km.restart_kernel(now=True)
        await self.async_start_new_kernel_client()
        self._guard_ready = False
        await self._install_guard()
        for index in self._completed:
            replayed = self.nb.cells[index]
            if _is_graded_test(replayed):
                continue
            reply = await self._quiet(replayed.source)
            if reply.get("status") == "timeout":
                break


def autograde_preprocessors() -> list:
    """nbgrader's autograde preprocessors with its Execute replaced by GuardedExecute (for
    ``c.Autograde.autograde_preprocessors`` in nbgrader_config.py)."""
    from nbgrader.converters import Autograde

    stock = list(Autograde.class_traits()["autograde_preprocessors"].default())
    return [GuardedExecute if step is Execute else step for step in stock]
