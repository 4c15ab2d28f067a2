"""``lint/run`` and ``format/file``: SQLFluff when the project has a ``.sqlfluff``, sqlfmt
otherwise, each run in a subprocess with a timeout so a slow or hung tool never blocks
the pod.

SQLFluff reads the project's ``.sqlfluff`` and ``.sqlfluffignore`` itself (it runs in the
project folder). Its dbt templater needs ``sqlfluff-templater-dbt``; without it the
Jinja templater is used, which renders ``ref()`` and ``source()`` as plain names.
sqlfmt only formats: a file it would change is one problem ("not formatted").
"""

from __future__ import annotations

import asyncio
import configparser
import importlib.util
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict

from .errors import INVALID_PATH, LINT_FAILED, NOT_FOUND
from .paths import resolve
from .rpc import MethodRegistry, RpcError
from .workspace import CallContext

methods = MethodRegistry()

TIMEOUT_SECONDS = 60.0
MAX_PROBLEMS = 2000
DEFAULT_DIALECT = "ansi"
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
    files: list[FileProblems]
    truncated: bool


class FormatResult(TypedDict):
    tool: Tool
    path: str
    content: str
    changed: bool


def tool_for(root: Path) -> Tool:
    return "sqlfluff" if (root / ".sqlfluff").is_file() else "sqlfmt"


def _sqlfluff_options(root: Path) -> list[str]:
    """Templater and dialect flags the project's .sqlfluff does not settle by itself."""
    config = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        config.read(root / ".sqlfluff", encoding="utf-8")
    except configparser.Error:
        return ["--dialect", DEFAULT_DIALECT, "--templater", "jinja"]
    section = config["sqlfluff"] if config.has_section("sqlfluff") else {}
    options = []
    if not section.get("dialect"):
        options += ["--dialect", DEFAULT_DIALECT]
    templater = section.get("templater", "jinja")
    if templater == "dbt" and importlib.util.find_spec("sqlfluff_templater_dbt") is None:
        options += ["--templater", "jinja"]
    return options


async def _run(root: Path, args: list[str], stdin: str | None = None) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        *args,
        cwd=root,
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


def _relative(root: Path, paths: list[str] | None) -> list[str]:
    if not paths:
        return ["."]
    return [resolve(root, path).relative_to(root).as_posix() for path in paths]


async def lint(root: Path, paths: list[str] | None) -> LintResult:
    targets = _relative(root, paths)
    tool = tool_for(root)
    if tool == "sqlfluff":
        args = ["sqlfluff", "lint", "--format", "json", "--nofail", "--disable-progress-bar"]
        code, out, err = await _run(root, [*args, *_sqlfluff_options(root), *targets])
        try:
            reports = json.loads(out or "[]")
        except json.JSONDecodeError:
            raise RpcError(LINT_FAILED, _last_line(err) or "sqlfluff gave no report") from None
        return _sqlfluff_problems(reports)
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
    return {"tool": tool, "files": files, "truncated": False}


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
    return {"tool": "sqlfluff", "files": files, "truncated": truncated}


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1][:300] if lines else ""


async def format_text(root: Path, path: str, content: str) -> FormatResult:
    tool = tool_for(root)
    if tool == "sqlfluff":
        args = ["sqlfluff", "fix", "-", "--stdin-filename", path, "--disable-progress-bar"]
        code, out, err = await _run(root, [*args, *_sqlfluff_options(root)], stdin=content)
    else:
        code, out, err = await _run(root, ["sqlfmt", "-", "--no-progressbar"], stdin=content)
    if code not in (0, 1) or (not out and content):
        raise RpcError(LINT_FAILED, _last_line(err) or f"{tool} could not format {path}")
    return {"tool": tool, "path": path, "content": out, "changed": out != content}


@methods.method("lint/run", LintParams, result=LintResult, errors=(INVALID_PATH, LINT_FAILED))
async def lint_run(ctx: CallContext, params: LintParams) -> LintResult:
    return await lint(ctx.workspace.root, params.paths)


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
    return await format_text(root, relative, content)
