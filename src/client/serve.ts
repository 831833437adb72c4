import { readFileSync } from "node:fs";
import { join } from "node:path";
import express, { type Request, type Response, type Router } from "express";
import { getOnly } from "../http/get-only";
import type { Registry } from "../registry";
import { jsonForScript } from "./escape";
import { interfaceScript } from "./interface";

/** The line of client.js that carries the mount path; the server rewrites it for its own mount. */
export const PREFIX_LINE = 'var MOUNT_PREFIX = "/ajax";';

const SCRIPT_TYPE = "application/javascript; charset=utf-8";

/**
 * client.js is plain JavaScript that tsc does not touch. It sits in `src/client/`; compiled
 * code runs from `<outDir>/src/client/`, so look beside this file first (a build that copies
 * it), then in the source tree at the package root.
 */
function readClientSource(): string {
  const candidates = [join(__dirname, "client.js"), join(__dirname, "..", "..", "..", "src", "client", "client.js")];
  for (const path of candidates) {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch {
      continue;
    }
    if (text.includes(PREFIX_LINE)) return text;
  }
  throw new Error(`ajax-endpoints: cannot find the browser client (looked in ${candidates.join(", ")})`);
}

/** The browser client (its source) with the mount path written in (`/ajax` unless mounted elsewhere). */
function clientScript(clientSource: string, mountPath: string): string {
  return clientSource.replace(PREFIX_LINE, `var MOUNT_PREFIX = ${jsonForScript(mountPath)};`);
}

function sendScript(req: Request, res: Response, text: string): void {
  res.setHeader("Content-Type", SCRIPT_TYPE);
  res.setHeader("X-Content-Type-Options", "nosniff");
  // Revalidate every time (cheap, with the ETag) so that a new deploy is never masked by a stale client.
  res.setHeader("Cache-Control", "no-cache");
  res.send(text);
}

/**
 * `GET /client.js` and `GET /interface.js` under the mount. Both are built once: the client
 * per mount path (read from `req.baseUrl`, so the router may be mounted anywhere), the
 * interface from the registry at start-up. Any other method is a `405`.
 */
export function clientScriptRoutes(registry: Registry): Router {
  const clientSource = readClientSource(); // at start-up: a missing client is a deployment error, not a 500 later
  const router = express.Router({ caseSensitive: true, strict: true });
  const generatedInterface = interfaceScript(registry);
  const clientByMount = new Map<string, string>();
  router.all("/client.js", getOnly, (req: Request, res: Response) => {
    const mount = req.baseUrl;
    let text = clientByMount.get(mount);
    if (text === undefined) {
      text = clientScript(clientSource, mount);
      // A mount path with parameters gives many base URLs; keep a few, build the rest per request.
      if (clientByMount.size < 16) clientByMount.set(mount, text);
    }
    sendScript(req, res, text);
  });
  router.all("/interface.js", getOnly, (req: Request, res: Response) => sendScript(req, res, generatedInterface));
  return router;
}
