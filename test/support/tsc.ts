import { spawnSync } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The repository's root (tests run from dist/test). */
export const ROOT = join(__dirname, "..", "..", "..");
const TSC = join(ROOT, "node_modules", "typescript", "bin", "tsc");

/** Runs this repository's tsc in a directory. */
export function tsc(args: string[], cwd = ROOT): { status: number | null; output: string } {
  const result = spawnSync(process.execPath, [TSC, ...args], { cwd, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/**
 * A fresh directory under dist/ (so that typeorm, express and joi resolve from this
 * repository's node_modules) holding an ES module app whose `ajax-endpoints` is this build's
 * `dist/src` types.
 */
export function scratchApp(name: string): string {
  const app = join(ROOT, "dist", name);
  rmSync(app, { recursive: true, force: true });
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, "package.json"), JSON.stringify({ type: "module" }));
  return app;
}

/** `paths` that make `ajax-endpoints` this build's types, for a tsconfig in a {@link scratchApp}. */
export const AJAX_ENDPOINTS_PATHS = { "ajax-endpoints": ["../src/index.d.ts"] };

/** Writes files (path → text) into a directory. */
export function writeFiles(directory: string, files: Record<string, string>): void {
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(directory, path)), { recursive: true });
    writeFileSync(join(directory, path), text);
  }
}
