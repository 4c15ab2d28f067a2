// Layers of a lineage graph around one node: each node's column is how many hops upstream
// (negative) or downstream (positive) of the focus it is, by the longest path inside the
// graph, so every edge points to the right. Pure: the pane draws what this returns.

export interface LayoutNode {
  unique_id: string;
  name: string;
  resource_type: string;
  path: string;
}

export interface Layout {
  /** Columns from the furthest upstream to the furthest downstream, each sorted by name. */
  columns: LayoutNode[][];
  /** The column of each node, by unique id. */
  columnOf: Map<string, number>;
}

export function layers(nodes: readonly LayoutNode[], edges: readonly (readonly string[])[], focus: string): Layout {
  const ids = new Set(nodes.map((n) => n.unique_id));
  const parents = new Map<string, string[]>();
  const children = new Map<string, string[]>();
  for (const [from, to] of edges) {
    if (from === undefined || to === undefined || !ids.has(from) || !ids.has(to)) continue;
    (parents.get(to) ?? parents.set(to, []).get(to)!).push(from);
    (children.get(from) ?? children.set(from, []).get(from)!).push(to);
  }
  const up = longest(focus, parents);
  const down = longest(focus, children);
  const level = new Map<string, number>();
  for (const node of nodes) {
    const id = node.unique_id;
    if (id === focus) level.set(id, 0);
    else if (up.has(id)) level.set(id, -up.get(id)!);
    else if (down.has(id)) level.set(id, down.get(id)!);
  }
  // Nodes neither upstream nor downstream of the focus (a sibling's parent): one column
  // left of their leftmost child, or right of their rightmost parent.
  for (let changed = true; changed;) {
    changed = false;
    for (const node of nodes) {
      const id = node.unique_id;
      if (level.has(id)) continue;
      const kids = (children.get(id) ?? []).filter((c) => level.has(c)).map((c) => level.get(c)!);
      const ups = (parents.get(id) ?? []).filter((p) => level.has(p)).map((p) => level.get(p)!);
      if (kids.length) level.set(id, Math.min(...kids) - 1);
      else if (ups.length) level.set(id, Math.max(...ups) + 1);
      else continue;
      changed = true;
    }
  }
  for (const node of nodes) if (!level.has(node.unique_id)) level.set(node.unique_id, 0);
  const values = [...level.values()];
  const min = Math.min(0, ...values);
  const max = Math.max(0, ...values);
  const columns: LayoutNode[][] = Array.from({ length: max - min + 1 }, () => []);
  const columnOf = new Map<string, number>();
  for (const node of nodes) {
    const column = level.get(node.unique_id)! - min;
    columns[column]!.push(node);
    columnOf.set(node.unique_id, column);
  }
  for (const column of columns) column.sort((a, b) => a.name.localeCompare(b.name) || a.unique_id.localeCompare(b.unique_id));
  return { columns, columnOf };
}

/** The longest distance from `start` to each node reachable through `links`. */
function longest(start: string, links: Map<string, string[]>): Map<string, number> {
  const distance = new Map<string, number>();
  const visit = (id: string, depth: number, path: Set<string>): void => {
    for (const next of links.get(id) ?? []) {
      if (path.has(next) || (distance.get(next) ?? -1) >= depth + 1) continue;
      distance.set(next, depth + 1);
      path.add(next);
      visit(next, depth + 1, path);
      path.delete(next);
    }
  };
  visit(start, 0, new Set([start]));
  return distance;
}
