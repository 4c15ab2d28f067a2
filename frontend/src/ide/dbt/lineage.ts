// The lineage of the open model, beside the editor: dbt/lineage's nodes in layers (parents
// left, children right, two hops each way at first; "wider" adds one more on a side),
// edges drawn in an SVG behind the boxes once they are laid out. Double-click a node opens
// its file. It follows the active tab while it is shown.
import { h, type View } from "../../dom";
import { errorMessage } from "../../ui/notice";
import type { LineageResult } from "../generated/protocol";
import type { RpcClient } from "../rpc";
import { layers } from "./lineagelayout";

const DEFAULT_DEPTH = 2;
const MAX_DEPTH = 50;
const SVG = "http://www.w3.org/2000/svg";

export class LineagePane implements View {
  readonly el: HTMLElement;
  private readonly graph: HTMLElement;
  private readonly status: HTMLElement;
  private readonly depthLabel: HTMLElement;
  private path: string | null = null;
  private upstream = DEFAULT_DEPTH;
  private downstream = DEFAULT_DEPTH;
  private generation = 0;
  private resize: ResizeObserver | null = null;

  constructor(
    private readonly rpc: RpcClient,
    private readonly openFile: (path: string) => void,
  ) {
    this.status = h("span", { class: "dbt-lineage-status", role: "status", "data-testid": "dbt-lineage-status" });
    this.depthLabel = h("span", { class: "dbt-lineage-depth", "data-testid": "dbt-lineage-depth" });
    const wider = (side: "upstream" | "downstream", label: string): HTMLButtonElement => {
      const button = h("button", { type: "button", class: "button small", "data-testid": `dbt-lineage-wider-${side}`, title: `One more level ${side}` }, label);
      button.addEventListener("click", () => {
        this[side] = Math.min(MAX_DEPTH, this[side] + 1);
        void this.load();
      });
      return button;
    };
    const close = h("button", { type: "button", class: "icon-button", title: "Close the lineage", "aria-label": "Close the lineage", "data-testid": "dbt-lineage-close" }, "×");
    close.addEventListener("click", () => this.hide());
    this.graph = h("div", { class: "dbt-lineage-graph", "data-testid": "dbt-lineage-graph" });
    this.el = h(
      "aside",
      { class: "dbt-lineage", "data-testid": "dbt-lineage", "data-state": "idle", hidden: true },
      h("header", { class: "dbt-compiled-header" },
        h("strong", null, "Lineage"), wider("upstream", "◀ wider"), this.depthLabel, wider("downstream", "wider ▶"), this.status, close),
      this.graph,
    );
  }

  get shown(): boolean {
    return !this.el.hidden;
  }

  /** Shows or hides the pane; shown, it draws the open file's lineage. */
  toggle(): void {
    if (this.shown) this.hide();
    else {
      this.el.hidden = false;
      void this.load();
    }
  }

  /** The active tab changed: a shown pane draws the new file's lineage (at the default width). */
  setActivePath(path: string | null): void {
    if (path === this.path) return;
    this.path = path;
    this.upstream = this.downstream = DEFAULT_DEPTH;
    if (this.shown) void this.load();
  }

  dispose(): void {
    this.generation += 1;
    this.resize?.disconnect();
  }

  private hide(): void {
    this.el.hidden = true;
    this.generation += 1;
  }

  private async load(): Promise<void> {
    const generation = ++this.generation;
    this.depthLabel.textContent = `${this.upstream} + ${this.downstream}`;
    if (!this.path) {
      this.message("Open a model to see its lineage.");
      return;
    }
    this.el.dataset.state = "running";
    this.status.textContent = "Reading…";
    try {
      const result = await this.rpc.request("dbt/lineage", { path: this.path, upstream: this.upstream, downstream: this.downstream });
      if (generation !== this.generation) return;
      this.draw(result, this.path);
      this.el.dataset.state = "done";
      this.status.textContent = `${result.nodes.length} nodes`;
      if (result.stale) {
        // The project does not parse now: this is the last parse that worked.
        const where = result.stale.path ? ` (${result.stale.path}${result.stale.line ? `, line ${result.stale.line}` : ""})` : "";
        this.status.textContent += ` · from the last good parse: the project does not parse now${where}`;
        this.status.title = result.stale.message;
        this.el.dataset.stale = "true";
      } else {
        this.status.title = "";
        delete this.el.dataset.stale;
      }
    } catch (error) {
      if (generation !== this.generation) return;
      this.message(errorMessage(error));
    }
  }

  private message(text: string): void {
    this.el.dataset.state = "error";
    this.status.textContent = "";
    this.graph.replaceChildren(h("p", { class: "dbt-lineage-message", role: "alert", "data-testid": "dbt-lineage-message" }, text));
  }

  private draw(result: LineageResult, path: string): void {
    const focus = result.nodes.find((n) => n.path === path && n.resource_type !== "test")
      ?? result.nodes.find((n) => n.path === path);
    const { columns } = layers(result.nodes, result.edges, focus?.unique_id ?? "");
    const boxes = new Map<string, HTMLElement>();
    const columnEls = columns.map((column) => h("div", { class: "dbt-lineage-column" }, column.map((node) => {
      const box = h("div", {
        class: `dbt-lineage-node ${node.resource_type}${node === focus ? " focus" : ""}`,
        "data-testid": "dbt-lineage-node", "data-unique-id": node.unique_id, "data-path": node.path,
        "data-focus": String(node === focus), title: `${node.unique_id}\n${node.path}\nDouble-click opens the file`,
        tabindex: 0,
      }, h("span", { class: "dbt-lineage-type" }, node.resource_type), h("span", { class: "dbt-lineage-name" }, node.name));
      box.addEventListener("dblclick", () => this.openFile(node.path));
      box.addEventListener("keydown", (event) => {
        if (event.key === "Enter") this.openFile(node.path);
      });
      boxes.set(node.unique_id, box);
      return box;
    })));
    const svg = document.createElementNS(SVG, "svg");
    svg.classList.add("dbt-lineage-edges");
    const canvas = h("div", { class: "dbt-lineage-canvas" }, ...columnEls);
    canvas.prepend(svg as unknown as HTMLElement);
    this.graph.replaceChildren(canvas);
    const edges = result.edges.filter(([from, to]) => boxes.has(from!) && boxes.has(to!));
    const drawEdges = (): void => {
      const origin = canvas.getBoundingClientRect();
      svg.setAttribute("width", String(canvas.scrollWidth));
      svg.setAttribute("height", String(canvas.scrollHeight));
      svg.replaceChildren(...edges.map(([from, to]) => {
        const a = boxes.get(from!)!.getBoundingClientRect();
        const b = boxes.get(to!)!.getBoundingClientRect();
        const x1 = a.right - origin.left, y1 = a.top + a.height / 2 - origin.top;
        const x2 = b.left - origin.left, y2 = b.top + b.height / 2 - origin.top;
        const bend = Math.max(20, (x2 - x1) / 2);
        const line = document.createElementNS(SVG, "path");
        line.setAttribute("d", `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}`);
        line.dataset.from = from!;
        line.dataset.to = to!;
        return line;
      }));
    };
    this.resize?.disconnect();
    this.resize = new ResizeObserver(drawEdges);
    this.resize.observe(canvas);
    requestAnimationFrame(drawEdges);
  }
}
