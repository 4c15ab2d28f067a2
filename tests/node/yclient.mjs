// A Yjs client built on the y-websocket provider (as any third-party editor would use it),
// driven by a test over stdin/stdout, one JSON object a line.
//
//   node yclient.mjs <room server url> <room name> <sessionId> <cookie> <origin>
//
// Commands on stdin: {"op":"insert","index":n,"text":s}, {"op":"delete","index":n,"length":n},
// {"op":"random","seed":n,"edits":n} (random inserts and deletes with pauses), {"op":"text"},
// {"op":"quit"}. Every command is answered with {"ok":true,"text":...}; events
// {"event":"synced"} and {"event":"closed","code":n} are written as they happen.
import * as readline from "node:readline";
import WebSocket from "ws";
import * as Y from "yjs";
import { WebsocketProvider } from "y-websocket";

const [serverUrl, roomName, sessionId, cookie, origin] = process.argv.slice(2);

// The provider constructs its socket as `new WebSocketPolyfill(url)`: the login cookie and
// the page's Origin ride along as a browser's would.
class CookieWebSocket extends WebSocket {
  constructor(url) {
    super(url, { headers: { Cookie: cookie, Origin: origin } });
  }
}

const doc = new Y.Doc();
const text = doc.getText("source");
const provider = new WebsocketProvider(serverUrl, roomName, doc, {
  params: { sessionId },
  WebSocketPolyfill: CookieWebSocket,
  disableBc: true,
  shouldReconnect: () => false,
});
provider.awareness.setLocalStateField("user", { name: "node client", color: "#888888" });

const write = (message) => process.stdout.write(`${JSON.stringify(message)}\n`);
provider.on("sync", (synced) => synced && write({ event: "synced", text: text.toString() }));
provider.on("connection-close", (event) => write({ event: "closed", code: event?.code ?? null }));

// A small seeded generator: the test can replay a failing run's edits.
function generator(seed) {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 4294967296;
  };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 \n,()";

async function randomEdits(seed, edits) {
  const random = generator(seed);
  for (let i = 0; i < edits; i++) {
    const length = text.length;
    if (length && random() < 0.35) {
      const start = Math.floor(random() * length);
      text.delete(start, Math.min(length - start, 1 + Math.floor(random() * 6)));
    } else {
      let chunk = "";
      const size = 1 + Math.floor(random() * 8);
      for (let c = 0; c < size; c++) chunk += ALPHABET[Math.floor(random() * ALPHABET.length)];
      text.insert(Math.floor(random() * (length + 1)), chunk);
    }
    await sleep(random() * 15);
  }
}

const lines = readline.createInterface({ input: process.stdin });
for await (const line of lines) {
  const command = JSON.parse(line);
  if (command.op === "insert") text.insert(command.index, command.text);
  else if (command.op === "delete") text.delete(command.index, command.length);
  else if (command.op === "random") await randomEdits(command.seed, command.edits);
  else if (command.op === "quit") break;
  write({ ok: true, text: text.toString() });
}
provider.destroy();
doc.destroy();
process.exit(0);
