#!/usr/bin/env node
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { Ajax } from "./router";
import { generateClient } from "./openapi/client";
import type { OpenApiDocument } from "./openapi/document";

const USAGE = `Usage:
  ajax-endpoints client  --out <file.ts>   (--app <module> | --url <http://host/ajax/openapi.json>) [--base-url <url>]
  ajax-endpoints openapi --out <file.json> (--app <module> | --url <...>)

--app   a module that exports (as default or as "ajax") a createAjax() result, an object with
        an "ajax" member, or a function returning (a promise of) either
--url   reads the document from a running server
--base-url  the mount URL the generated client calls by default (default: the document's server)`;

/** A createAjax() result, `{ ajax }`, or a function returning either. */
async function ajaxFromModule(modulePath: string): Promise<Ajax> {
  const loaded = require(resolve(process.cwd(), modulePath)) as Record<string, unknown>;
  let value: unknown = loaded.default ?? loaded.ajax ?? loaded;
  if (typeof value === "function") value = await (value as () => unknown)();
  if (value && typeof value === "object" && "ajax" in value && !("router" in value)) value = (value as { ajax: unknown }).ajax;
  if (!value || typeof value !== "object" || !("router" in value)) {
    throw new Error(`${modulePath} exports no createAjax() result (nor a function returning one)`);
  }
  return value as Ajax;
}

/** The document of an app module or of a running server. */
export async function loadDocument(source: { app?: string; url?: string }): Promise<OpenApiDocument> {
  if (source.app) {
    const ajax = await ajaxFromModule(source.app);
    try {
      if (!ajax.openapi) throw new Error(`${source.app}: the router was built with openapi: false`);
      return ajax.openapi;
    } finally {
      await ajax.close();
    }
  }
  const response = await fetch(source.url!, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`GET ${source.url}: HTTP ${response.status}`);
  const document = (await response.json()) as OpenApiDocument;
  if (typeof document.openapi !== "string" || !document.paths) throw new Error(`${source.url} is not an OpenAPI document`);
  return document;
}

/** Runs the command line; resolves with the exit code. */
export async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv, allowPositionals: true, strict: true,
      options: { out: { type: "string" }, app: { type: "string" }, url: { type: "string" }, "base-url": { type: "string" }, help: { type: "boolean" } },
    });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const command = positionals[0];
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if ((command !== "client" && command !== "openapi") || positionals.length !== 1 || !values.out || !values.app === !values.url) {
    console.error(USAGE);
    return 2;
  }
  const document = await loadDocument({ app: values.app, url: values.url });
  const written = values["base-url"] ? { ...document, servers: [{ url: values["base-url"] }] } : document;
  const text = command === "client" ? generateClient(written) : `${JSON.stringify(written, null, 2)}\n`;
  const out = resolve(process.cwd(), values.out);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, text);
  console.log(`ajax-endpoints: wrote ${values.out} (${Object.keys(document.paths).length} paths)`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`ajax-endpoints: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
