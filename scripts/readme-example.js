#!/usr/bin/env node
// The README's complete example: every fenced block whose info string names a file
// (```ts file=src/server.ts) is one file of a runnable app, and the block tagged
// `tsc-init-additions` lists what to add to the tsconfig.json that `tsc --init` writes.
// Used by test/readme.test.ts (compiles the example against this repo) and by
// scripts/adoption.sh (compiles and runs it against the packed tarball), so the README
// cannot drift from code that works.
//
//   node scripts/readme-example.js <README.md> <directory>   writes the files into <directory>
"use strict";
const { mkdirSync, readFileSync, writeFileSync } = require("node:fs");
const { dirname, join, normalize, isAbsolute } = require("node:path");

const FENCE = /^```([^\n]*)\n([\s\S]*?)^```\s*$/gm;

/** `{ files: Map<path, text>, tscInitAdditions: object | undefined }` of a README's text. */
function extractExample(markdown) {
  const files = new Map();
  let tscInitAdditions;
  for (const [, info, body] of markdown.matchAll(FENCE)) {
    const words = info.trim().split(/\s+/);
    const file = words.find((word) => word.startsWith("file="));
    if (file) {
      const path = normalize(file.slice("file=".length));
      if (isAbsolute(path) || path.startsWith("..")) throw new Error(`README example file outside the app: ${path}`);
      if (files.has(path)) throw new Error(`README example file ${path} appears twice`);
      files.set(path, body);
    }
    if (words.includes("tsc-init-additions")) tscInitAdditions = JSON.parse(body);
  }
  if (files.size === 0) throw new Error("the README has no example files (```ts file=...)");
  return { files, tscInitAdditions };
}

/** Writes the example's files under `directory`; returns their paths. */
function writeExample(markdown, directory) {
  const { files, tscInitAdditions } = extractExample(markdown);
  for (const [path, text] of files) {
    mkdirSync(dirname(join(directory, path)), { recursive: true });
    writeFileSync(join(directory, path), text);
  }
  return { paths: [...files.keys()], tscInitAdditions };
}

module.exports = { extractExample, writeExample };

if (require.main === module) {
  const [readme, directory] = process.argv.slice(2);
  if (!readme || !directory) {
    console.error("usage: node scripts/readme-example.js <README.md> <directory>");
    process.exit(2);
  }
  const { paths } = writeExample(readFileSync(readme, "utf8"), directory);
  console.log(`wrote ${paths.join(", ")}`);
}
