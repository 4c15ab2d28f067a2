"""``lint/run`` and ``format/file``: SQLFluff when the project has a ``.sqlfluff``, sqlfmt
otherwise, each run in a subprocess with a timeout so a slow or hung tool never blocks
the pod.

SQLFluff reads the project's ``.sqlfluff`` and ``.sqlfluffignore`` itself (it runs in the
project folder); which templater it runs with, and how the dbt one gets its profile, is
:mod:`.lint_templater`'s. A lint with the dbt templater that dbt cannot compile runs again
with the Jinja templater (which renders ``ref()`` and ``source()`` as plain names), and
files the dbt templater skips are linted with Jinja too; the result's ``notice`` says so.
sqlfmt only formats: a file it would change is one problem ("not formatted").
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, TypedDict

from .dbt.processes import dbt_env
from .errors import INVALID_PATH, LINT_FAILED, NOT_FOUND
from .lint_templater import Templating, choose, dbt_failure, jinja_instead, skipped_by_dbt
from .paths import resolve
from .rpc import MethodRegistry, RpcError
from .workspace import CallContext

methods = MethodRegistry()

TIMEOUT_SECONDS = 60.0
MAX_PROBLEMS = 2000
Tool = Literal["sqlfluff", "sqlfmt"]
_SQLFMT_LINE = re.compile(r"^(?P<path>\S+?):? (?P<what>failed formatting check|had errors?)\b")


@dataclass
class LintParams:
    paths: list[str] | None = None


@dataclass
class FormatParams:
    path: str
    # The editor's text to format (unsaved edits included); the file's when left out.
    content: str | None = None


class Problem(TypedDict):
    line: int  # 1-based
    column: int  # 1-based
    end_line: int | None
    end_column: int | None
    code: str
    message: str
    severity: Literal["error", "warning"]


class FileProblems(TypedDict):
    path: str
    problems: list[Problem]


class LintResult(TypedDict):
    tool: Tool
    # SQLFluff's templater that ran ("dbt", "jinja", ...); None for sqlfmt.
    templater: str | None
    # Why another templater ran than the project asked for or some files got; else None.
    notice: str | None
    files: list[FileProblems]
    truncated: bool


class FormatResult(TypedDict):
    tool: Tool
    templater: str | None
    path: str
    content: str
    changed: bool


def tool_for(root: Path) -> Tool:
    return "sqlfluff" if (root / ".sqlfluff").is_file() else "sqlfmt"


async def _run(
    root: Path, args: list[str], stdin: str | None = None, env: dict[str, str] | None = None
) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-P",  # never import a module of the project by its name
        "-m",
        *args,
        cwd=root,
        # The tools run the project's Jinja (and a templater's Python): none of the pod's secrets.
        env=env if env is not None else dbt_env({}),
        stdin=asyncio.subprocess.PIPE if stdin is not None else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        out, err = await asyncio.wait_for(
            process.communicate(stdin.encode() if stdin is not None else None), TIMEOUT_SECONDS
        )
    except TimeoutError:
        process.kill()
        await process.wait()
        raise RpcError(LINT_FAILED, f"{args[0]} took longer than {TIMEOUT_SECONDS:.0f} s") from None
    return process.returncode or 0, out.decode(errors="replace"), err.decode(errors="replace")


def _sqlfluff(command: str, *args: str) -> list[str]:
    """A SQLFluff command line that never imports Python from the project.

    SQLFluff's Jinja templater imports every module in its ``library_path``, which any file
    SQLFluff reads settings from can set (``.sqlfluff``, ``setup.cfg``, ``tox.ini``,
    ``pyproject.toml``, in any folder): a branch could plant one, and it would run with the
    owner's credentials when anyone lints. The command line's path wins over every such
    file; it names ``/dev/null``, where no module can ever be (SQLFluff's own ``none``
    clears only the top-level setting, and the templater's section then applies).
    Macros (``load_macros_from_path``) stay: SQLFluff renders them in Jinja's sandbox.
    """
    return ["sqlfluff", command, *args, "--library-path", os.devnull]


def _relative(root: Path, paths: list[str] | None) -> list[str]:
    if not paths:
        return ["."]
    return [resolve(root, path).relative_to(root).as_posix() for path in paths]


async def _sqlfluff_reports(
    root: Path, targets: list[str], templating: Templating
) -> tuple[list[dict[str, Any]] | None, str]:
    """SQLFluff's JSON reports of ``targets`` (None when it stopped without one) and its log."""
    args = _sqlfluff("lint", "--format", "json", "--nofail", "--disable-progress-bar")
    code, out, err = await _run(root, [*args, *templating.options, *targets], env=templating.env)
    if code != 0 and not out.strip():
        return None, err
    try:
        return json.loads(out or "[]"), err
    except json.JSONDecodeError:
        return None, err


async def _sqlfluff_lint(workspace: Any, targets: list[str]) -> LintResult:
    root = Path(workspace.root)
    templating = choose(workspace)
    try:
        reports, err = await _sqlfluff_reports(root, targets, templating)
    except RpcError as timeout:  # dbt can take long to load a big project: Jinja will not
        if templating.templater != "dbt":
            raise
        reports, err = None, timeout.message
    if templating.templater == "dbt":
        failure = dbt_failure(reports, err)
        if failure is not None:
            why = f"dbt could not compile the project, so the Jinja templater ran: {failure}"
            templating = jinja_instead(templating, why)
            reports, err = await _sqlfluff_reports(root, targets, templating)
        else:
            reports, notice = await _lint_skipped_with_jinja(root, templating, reports or [], err)
            templating = replace(templating, notice=notice)
    if reports is None:
        raise RpcError(LINT_FAILED, _last_line(err) or "sqlfluff gave no report")
    result = _sqlfluff_problems(reports)
    result["templater"] = templating.templater
    result["notice"] = templating.notice
    return result


async def _lint_skipped_with_jinja(
    root: Path, templating: Templating, reports: list[dict[str, Any]], err: str
) -> tuple[list[dict[str, Any]], str | None]:
    """``reports`` with the files the dbt templater skipped linted by the Jinja templater,
    and a notice naming them (a scratch file outside the model paths, a macro file)."""
    skipped = {_project_path(root, path): why for path, why in skipped_by_dbt(err).items()}
    if not skipped:
        return reports, None
    again, _err = await _sqlfluff_reports(root, sorted(skipped), jinja_instead(templating, ""))
    redone = {_project_path(root, str(r.get("filepath", ""))): r for r in again or []}
    kept = [r for r in reports if _project_path(root, str(r.get("filepath", ""))) not in redone]
    names = [f"{path} ({skipped[path]})" for path in sorted(skipped)]
    shown = ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")
    notice = f"The dbt templater skipped these, so the Jinja templater linted them: {shown}."
    return kept + list(redone.values()), notice


async def lint(workspace: Any, paths: list[str] | None) -> LintResult:
    root = Path(workspace.root)
    targets = _relative(root, paths)
    tool = tool_for(root)
    if tool == "sqlfluff":
        return await _sqlfluff_lint(workspace, targets)
    code, out, err = await _run(root, ["sqlfmt", "--check", "--no-progressbar", *targets])
    files: list[FileProblems] = []
    for line in (out + "\n" + err).splitlines():
        # "models/x.sql failed formatting check." / "models/x.sql had errors ..."
        match = _SQLFMT_LINE.match(line.strip())
        if match:
            problem = (
                _unformatted()
                if match["what"].startswith("failed")
                else _problem("sqlfmt cannot parse this file")
            )
            files.append({"path": _project_path(root, match["path"]), "problems": [problem]})
    if code not in (0, 1) and not files:
        raise RpcError(LINT_FAILED, _last_line(err) or f"sqlfmt exited with {code}")
    return {"tool": tool, "templater": None, "notice": None, "files": files, "truncated": False}


def _project_path(root: Path, shown: str) -> str:
    path = Path(shown)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(root).as_posix()
        except ValueError:
            return shown
    return path.as_posix().removeprefix("./")


def _unformatted() -> Problem:
    return _problem("Not formatted as sqlfmt would: Format fixes it", code="sqlfmt")


def _problem(message: str, code: str = "sqlfmt") -> Problem:
    return {
        "line": 1,
        "column": 1,
        "end_line": None,
        "end_column": None,
        "code": code,
        "message": message,
        "severity": "warning",
    }


def _sqlfluff_problems(reports: list[dict[str, Any]]) -> LintResult:
    files: list[FileProblems] = []
    count = 0
    truncated = False
    for report in reports:
        problems: list[Problem] = []
        for violation in report.get("violations", []):
            if count >= MAX_PROBLEMS:
                truncated = True
                break
            count += 1
            problems.append(
                {
                    "line": int(violation.get("start_line_no") or 1),
                    "column": int(violation.get("start_line_pos") or 1),
                    "end_line": violation.get("end_line_no"),
                    "end_column": violation.get("end_line_pos"),
                    "code": str(violation.get("code", "")),
                    "message": str(violation.get("description", "")),
                    "severity": "warning" if violation.get("warning") else "error",
                }
            )
        if problems:
            path = str(report.get("filepath", "")).removeprefix("./")
            files.append({"path": path, "problems": problems})
    return {
        "tool": "sqlfluff",
        "templater": None,
        "notice": None,
        "files": files,
        "truncated": truncated,
    }


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


async def format_text(workspace: Any, path: str, content: str) -> FormatResult:
    root = Path(workspace.root)
    tool = tool_for(root)
    templater = None
    if tool == "sqlfluff":
        templating = choose(workspace, from_stdin=True)
        templater = templating.templater
        args = _sqlfluff("fix", "-", "--stdin-filename", path, "--disable-progress-bar")
        code, out, err = await _run(
            root, [*args, *templating.options], stdin=content, env=templating.env
        )
    else:
        code, out, err = await _run(root, ["sqlfmt", "-", "--no-progressbar"], stdin=content)
    if code not in (0, 1) or (not out and content):
        raise RpcError(LINT_FAILED, _last_line(err) or f"{tool} could not format {path}")
    return {
        "tool": tool,
        "templater": templater,
        "path": path,
        "content": out,
        "changed": out != content,
    }


@methods.method("lint/run", LintParams, result=LintResult, errors=(INVALID_PATH, LINT_FAILED))
async def lint_run(ctx: CallContext, params: LintParams) -> LintResult:
    return await lint(ctx.workspace, params.paths)


@methods.method(
    "format/file", FormatParams, result=FormatResult, errors=(INVALID_PATH, NOT_FOUND, LINT_FAILED)
)
async def format_file(ctx: CallContext, params: FormatParams) -> FormatResult:
    root = ctx.workspace.root
    target = resolve(root, params.path)
    content = params.content
    if content is None:
        try:
            content = await asyncio.to_thread(target.read_text, encoding="utf-8")
        except (FileNotFoundError, IsADirectoryError):
            raise RpcError(NOT_FOUND, f"no such file: {params.path}") from None
    relative = target.relative_to(root).as_posix()
    return await format_text(ctx.workspace, relative, content)
