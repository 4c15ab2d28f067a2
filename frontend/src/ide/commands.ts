// The commands the palette offers (Ctrl/Cmd-Shift-P): saving, finding, git, preview, dbt.
import type { PaletteCommand } from "./palette";

export interface CommandTargets {
  readOnly: () => boolean;
  /** The open file's path, if any. */
  activePath: () => string | null;
  save: () => unknown;
  saveAll: () => unknown;
  showPanel: (panel: "files" | "git" | "search" | "problems") => void;
  searchInFiles: () => void;
  preview: () => void;
  compile: () => void;
  gitRefresh: () => unknown;
  /** Presses one of the git panel's own buttons (pull, push...), if it is enabled. */
  gitAction: (testid: string) => void;
  dbt: (line: string) => unknown;
  lintFile: () => unknown;
  lintProject: () => unknown;
  format: () => unknown;
}

/** The dbt node an open file defines (`models/x/name.sql` → `name`), if it is one. */
export function nodeNameOf(path: string | null): string | null {
  if (!path) return null;
  const match = /^(models|seeds|snapshots)\/(?:.*\/)?([^/]+)\.(sql|py|csv)$/.exec(path);
  return match ? match[2]! : null;
}

export function ideCommands(t: CommandTargets): PaletteCommand[] {
  const writable = (): boolean => !t.readOnly();
  const onNode = (): boolean => writable() && nodeNameOf(t.activePath()) !== null;
  const withFile = (): boolean => t.activePath() !== null;
  const dbtOnNode = (command: string) => () => t.dbt(`${command} -s ${nodeNameOf(t.activePath())}`);
  return [
    { id: "file.save", title: "File: Save", shortcut: "Ctrl/Cmd-S", available: withFile, run: t.save },
    { id: "file.saveAll", title: "File: Save all", run: t.saveAll },
    { id: "view.files", title: "View: Files", run: () => t.showPanel("files") },
    { id: "view.git", title: "View: Git", run: () => t.showPanel("git") },
    { id: "search.files", title: "Search: Find in files", shortcut: "Ctrl/Cmd-Shift-F", run: t.searchInFiles },
    { id: "query.preview", title: "Preview: Run the query or model", shortcut: "Ctrl/Cmd-Enter", available: withFile, run: t.preview },
    { id: "dbt.compile", title: "dbt: Compile the open file", shortcut: "Ctrl/Cmd-Shift-Enter", available: withFile, run: t.compile },
    { id: "dbt.buildNode", title: "dbt: Build the open model", available: onNode, run: dbtOnNode("build") },
    { id: "dbt.runNode", title: "dbt: Run the open model", available: onNode, run: dbtOnNode("run") },
    { id: "dbt.testNode", title: "dbt: Test the open model", available: onNode, run: dbtOnNode("test") },
    { id: "dbt.build", title: "dbt: Build the project", available: writable, run: () => t.dbt("build") },
    { id: "dbt.run", title: "dbt: Run the project", available: writable, run: () => t.dbt("run") },
    { id: "dbt.test", title: "dbt: Test the project", available: writable, run: () => t.dbt("test") },
    { id: "dbt.parse", title: "dbt: Parse the project", available: writable, run: () => t.dbt("parse") },
    { id: "lint.file", title: "Lint: Lint the open file", available: withFile, run: t.lintFile },
    { id: "lint.project", title: "Lint: Lint the project", run: t.lintProject },
    { id: "format.file", title: "Format: Format the open file", shortcut: "Shift-Alt-F", available: () => writable() && withFile(), run: t.format },
    { id: "view.problems", title: "View: Problems", run: () => t.showPanel("problems") },
    { id: "git.refresh", title: "Git: Refresh", run: t.gitRefresh },
    { id: "git.pull", title: "Git: Pull", available: writable, run: () => t.gitAction("git-pull") },
    { id: "git.push", title: "Git: Push", available: writable, run: () => t.gitAction("git-push") },
    { id: "git.newBranch", title: "Git: New branch…", available: writable, run: () => t.gitAction("git-new-branch") },
  ];
}
