#!/usr/bin/env node
// The tarball's file list in the README's short form: one line a module,
// `dist/src/router.{d.ts,js,js.map}`, other files as they are.
//   node scripts/tarball-files.js < list of paths     prints the short form
//   node scripts/tarball-files.js --expand < short    prints the paths
"use strict";
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; }).on("end", () => {
  const lines = input.split("\n").map((line) => line.trim()).filter(Boolean);
  if (process.argv.includes("--expand")) {
    const paths = lines.flatMap((line) => {
      const match = /^(.*)\.\{([^}]*)\}$/.exec(line);
      return match ? match[2].split(",").map((ext) => `${match[1]}.${ext}`) : [line];
    });
    console.log(paths.sort().join("\n"));
    return;
  }
  const modules = new Map();
  const others = [];
  for (const path of lines) {
    const match = /^(dist\/.*?)\.(d\.ts|js\.map|js)$/.exec(path);
    if (!match) { others.push(path); continue; }
    modules.set(match[1], [...(modules.get(match[1]) ?? []), match[2]]);
  }
  const short = [...modules].map(([stem, exts]) => `${stem}.{${exts.sort().join(",")}}`);
  console.log([...others.sort(), ...short.sort()].join("\n"));
});
