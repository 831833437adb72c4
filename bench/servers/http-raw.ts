import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { serve, serverArgs } from "./harness";
import { RawArticles, type Answer } from "./raw-sql";

/** (4) node:http + better-sqlite3 prepared statements, no framework, no session. */
const { db } = serverArgs();
const articles = new RawArticles(db);
const RECORD = /^\/ajax\/blog\/article\/([^/]+)\/(get|update)\.json$/;

function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      try {
        resolve(chunks.length === 0 ? {} : JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch (error) {
        reject(error);
      }
    });
    req.on("error", reject);
  });
}

function send(res: ServerResponse, { status, body }: Answer): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

const server = createServer((req, res) => {
  if (req.method !== "POST") return send(res, { status: 405, body: { success: false, data: { code: 405, message: "Method not allowed." } } });
  readJson(req).then((params) => {
    const url = req.url ?? "";
    const record = RECORD.exec(url);
    if (record) return send(res, record[2] === "get" ? articles.get(record[1]!) : articles.updateArticle(record[1]!, params));
    if (url === "/ajax/blog/article/list.json") return send(res, articles.list(params));
    if (url === "/ajax/blog/article.json") return send(res, articles.create(params));
    send(res, { status: 404, body: { success: false, data: { code: 404, message: "Not found." } } });
  }, () => send(res, { status: 400, body: { success: false, data: { code: 400, message: "Malformed JSON." } } }));
});
serve(server, { snapshot: () => ({ ...articles.counts }), reset: () => { articles.counts.total = 0; } }, async () => articles.close());
