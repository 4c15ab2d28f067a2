// Past invocations from the gateway's index (GET /api/projects/{name}/invocations): they
// outlive the session, and their debug log and artifacts are downloaded from the store.
import { apiRequest } from "../../api";
import { h } from "../../dom";
import type { DbtInvocation } from "../generated/protocol";

/** A dbt/history entry, or a stored one with the names of its stored files. */
export type PastInvocation = DbtInvocation & { files?: readonly string[] };

export async function listStoredInvocations(project: string, limit = 50): Promise<PastInvocation[]> {
  const answer = await apiRequest<{ invocations: PastInvocation[] }>(
    "GET",
    `/api/projects/${encodeURIComponent(project)}/invocations?limit=${limit}`,
  );
  return answer.invocations;
}

/** The session's own entries (live status) over the stored ones (files), newest first. */
export function mergeInvocations(live: readonly DbtInvocation[], stored: readonly PastInvocation[]): PastInvocation[] {
  const byId = new Map<string, PastInvocation>();
  for (const inv of stored) byId.set(inv.invocation_id, inv);
  for (const inv of live) byId.set(inv.invocation_id, { ...inv, files: byId.get(inv.invocation_id)?.files });
  return [...byId.values()].sort((a, b) => b.started_at - a.started_at);
}

/** Download links of the log and artifacts; while it runs, the log streams. */
export function downloadLinks(inv: PastInvocation): HTMLElement | null {
  const files = new Set(inv.files ?? []);
  if (inv.status === "running") files.add("dbt.log");
  if (files.size === 0) return null;
  const base = `/api/invocations/${encodeURIComponent(inv.invocation_id)}`;
  const links = [...files].sort().map((name) =>
    h(
      "a",
      {
        class: "dbt-download",
        href: name === "dbt.log" ? `${base}/log` : `${base}/artifacts/${encodeURIComponent(name)}`,
        download: `${inv.invocation_id}-${name}`,
        "data-testid": "dbt-download",
        "data-file": name,
      },
      name === "dbt.log" ? "log" : name.replace(/\.json$/, ""),
    ),
  );
  return h("span", { class: "dbt-downloads" }, ...links);
}
