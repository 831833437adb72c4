import { expect } from "chai";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

/** The framework's sources (this test runs from dist/test/). */
const SRC = join(__dirname, "..", "..", "src");

function sourceFiles(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return path.endsWith(".ts") ? [path] : [];
  });
}

/**
 * What a module-level registry looks like: a `let` or `var` at the top level (state that
 * importing modules change), a collection created at the top level and not typed read-only
 * (a Map, Set or array that something fills in), or a setter of one. WeakMaps keyed by an
 * object are memo caches (an entry dies with its key and changes no behaviour) and are allowed.
 */
const MUTABLE_TOP_LEVEL = [
  { pattern: /^(export\s+)?(let|var)\s+\w+/, why: "a top-level let/var" },
  { pattern: /^(export\s+)?const\s+\w+\s*=\s*new\s+(Map|Set|Array)\b/, why: "a top-level Map/Set/Array not typed read-only" },
  { pattern: /^(export\s+)?const\s+\w+\s*(:\s*[^=]*\[\]\s*)?=\s*\[\s*\]/, why: "a top-level empty array to fill" },
  { pattern: /^(export\s+)?const\s+\w+\s*:\s*(Map|Set|Array)</, why: "a top-level mutable collection type" },
];

describe("no module-level mutable registry in src/ (issue 15)", () => {
  it("finds no top-level state that importing modules could fill in", () => {
    const found: string[] = [];
    for (const file of sourceFiles(SRC)) {
      readFileSync(file, "utf8").split("\n").forEach((line, index) => {
        for (const { pattern, why } of MUTABLE_TOP_LEVEL) {
          if (pattern.test(line)) found.push(`${relative(SRC, file)}:${index + 1}: ${why}: ${line.trim()}`);
        }
      });
    }
    expect(found).to.deep.equal([]);
  });

  it("has none of the six setters the tags module used to plug itself in", () => {
    const text = sourceFiles(SRC).map((file) => readFileSync(file, "utf8")).join("\n");
    for (const setter of ["setTagCommandRunner", "setTagsProbe", "addEncodeExtension", "addCustomFilter", "addWriteExtension", "addWriteKeyHandler", "installTags"]) {
      expect(text, setter).not.to.include(setter);
    }
  });
});
