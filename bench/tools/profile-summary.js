// Summarizes a .cpuprofile: self time by function and by package. Usage: node profile-summary.js <file> [top]
const { readFileSync } = require("node:fs");
const profile = JSON.parse(readFileSync(process.argv[2], "utf8"));
const top = Number(process.argv[3] ?? 30);
const self = new Map();
const byNode = new Map(profile.nodes.map((n) => [n.id, n]));
const dt = profile.timeDeltas;
const counts = new Map();
profile.samples.forEach((id, i) => counts.set(id, (counts.get(id) ?? 0) + (dt[i] ?? 0)));
let total = 0;
const byPackage = new Map();
for (const [id, us] of counts) {
  const node = byNode.get(id);
  const f = node.callFrame;
  const where = f.url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*\/dist-bench\//, "");
  const key = `${f.functionName || "(anon)"} ${where}:${f.lineNumber + 1}`;
  self.set(key, (self.get(key) ?? 0) + us);
  const pkg = f.url.includes("node_modules/") ? f.url.replace(/^.*node_modules\//, "").split("/").slice(0, f.url.includes("node_modules/@") ? 2 : 1).join("/")
    : f.url.includes("dist-bench") || f.url.includes("/dist/") ? "project:" + f.url.replace(/^.*\/dist(-bench)?\//, "").split("/")[0] : f.url.startsWith("node:") ? "node-core" : f.functionName || "(other)";
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + us);
  total += us;
}
const print = (map, n) => [...map].sort((a, b) => b[1] - a[1]).slice(0, n).forEach(([k, us]) => console.log(`${(us / 1000).toFixed(0).padStart(7)} ms ${((us / total) * 100).toFixed(1).padStart(5)}%  ${k}`));
console.log(`total ${(total / 1000).toFixed(0)} ms`);
console.log("-- by package"); print(byPackage, 25);
console.log("-- by function (self)"); print(self, top);
