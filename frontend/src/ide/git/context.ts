// What the git panel's parts share: the client, the role, and one way to run an operation.
import type { View } from "../../dom";
import type { GitClient, GitStatus, StatusFile } from "./types";

export interface GitContext {
  readonly git: GitClient;
  readOnly(): boolean;
  /**
   * Runs one git operation at a time: open documents are written to disk first, the label
   * is shown while it runs (`step` changes it), errors become notices, and the status is
   * refreshed afterwards. Resolves to undefined when the work failed.
   */
  run<T>(label: string, work: (step: (label: string) => void) => Promise<T>): Promise<T | undefined>;
  showDiff(file: StatusFile, staged: boolean): void;
  /** Shows a view over the editor area (null closes it). */
  showOverlay(view: View | null): void;
  openFile(path: string): void;
}

/** A part of the panel redrawn from each new status. */
export interface GitPart extends View {
  update(status: GitStatus): void;
}

export const STATUS_MARKERS: Record<StatusFile["status"], string> = {
  modified: "M",
  added: "A",
  deleted: "D",
  renamed: "R",
  untracked: "U",
  conflicted: "C",
};
