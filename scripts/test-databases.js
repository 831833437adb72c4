#!/usr/bin/env node
// The test matrix: builds once, runs the whole mocha suite on each database of
// TEST_DATABASES (default sqlite,postgres,mariadb), then the several-servers suite
// (test/servers: Redis sessions, two processes, outages, cluster) unless TEST_SERVERS=0.
// Prints one summary line per run and exits non-zero when any failed.
//
// A database that cannot be reached is skipped with its reason on a laptop, and fails the
// run under CI=true. `--build-dir dist-db` builds into and tests another folder, so that a
// working tree shared with other builds is left alone.
"use strict";
const { spawnSync } = require("node:child_process");
const { readFileSync } = require("node:fs");
const { join, resolve } = require("node:path");

const root = resolve(__dirname, "..");
const KNOWN_DATABASES = ["sqlite", "postgres", "mariadb"];

function parseArguments(argv) {
  let buildDir = "dist";
  for (let index = 0; index < argv.length; index++) {
    if (argv[index] === "--build-dir" && argv[index + 1]) buildDir = argv[++index];
    else {
      console.error(`usage: node scripts/test-databases.js [--build-dir <folder>]  (unknown argument "${argv[index]}")`);
      process.exit(2);
    }
  }
  return { buildDir };
}

/**
 * Mocha's arguments from .mocharc.json (the suite `npm test` runs), with its paths moved from
 * dist/ to the build folder. Given an explicit spec, the config's spec and ignore lists do not
 * apply (.mocharc.json ignores test/servers, which the matrix runs on its own).
 */
function mochaArguments(buildDir, spec) {
  const config = JSON.parse(readFileSync(join(root, ".mocharc.json"), "utf8"));
  const inBuildDir = (pattern) => pattern.replace(/^(\.\/)?dist\//, `${buildDir}/`);
  const args = ["--no-config"];
  for (const [key, value] of Object.entries(config)) {
    if (key === "spec" || (key === "ignore" && spec)) continue;
    if (key === "ignore") for (const pattern of [].concat(value)) args.push("--ignore", inBuildDir(pattern));
    else if (value === true) args.push(`--${key}`);
    else if (value !== false) args.push(`--${key}`, String(value));
  }
  return [...args, ...(spec ?? [].concat(config.spec).map(inBuildDir))];
}

function run(command, args, env = {}) {
  const started = Date.now();
  const result = spawnSync(command, args, { cwd: root, stdio: "inherit", env: { ...process.env, ...env } });
  return { status: result.status ?? 1, seconds: ((Date.now() - started) / 1000).toFixed(1) };
}

async function main() {
  const { buildDir } = parseArguments(process.argv.slice(2));
  const databases = (process.env.TEST_DATABASES ?? KNOWN_DATABASES.join(",")).split(",").map((name) => name.trim()).filter(Boolean);
  const unknown = databases.filter((name) => !KNOWN_DATABASES.includes(name));
  if (unknown.length > 0) {
    console.error(`TEST_DATABASES: unknown ${unknown.join(", ")}; use ${KNOWN_DATABASES.join(", ")}`);
    process.exit(2);
  }
  const inCI = process.env.CI === "true";

  console.log(`\n== build (tsc into ${buildDir}/)`);
  const build = run(join(root, "node_modules", ".bin", "tsc"), ["-p", "tsconfig.json", "--outDir", buildDir]);
  if (build.status !== 0) {
    console.error("build failed");
    process.exit(1);
  }
  // The probe lives with the tests, so the matrix and the tests agree on what "reachable" means.
  const { unreachableReason } = require(resolve(root, buildDir, "test", "support", "services.js"));
  const mocha = join(root, "node_modules", "mocha", "bin", "mocha.js");

  const summary = [];
  let failed = false;
  const record = (name, outcome, detail) => {
    summary.push(`${name.padEnd(9)} ${outcome.padEnd(7)} ${detail}`);
    if (outcome === "FAILED") failed = true;
  };
  const runSuite = async (name, services, env, spec) => {
    const reasons = (await Promise.all(services.map(unreachableReason))).filter(Boolean);
    if (reasons.length > 0) {
      console.log(`\n== ${name}: ${inCI ? "FAILED" : "skipped"}, ${reasons.join("; ")}`);
      record(name, inCI ? "FAILED" : "skipped", reasons.join("; ") + (inCI ? " (CI=true: every database must run)" : ""));
      return;
    }
    console.log(`\n== ${name}`);
    const result = run(process.execPath, [mocha, ...mochaArguments(buildDir, spec)], env);
    record(name, result.status === 0 ? "passed" : "FAILED",
      result.status === 0 ? `in ${result.seconds}s` : `${result.status} failing test(s) or a crash, in ${result.seconds}s`);
  };

  for (const database of databases) {
    await runSuite(database, database === "sqlite" ? [] : [database], { TEST_DATABASE: database });
  }
  if (process.env.TEST_SERVERS !== "0") {
    await runSuite("servers", ["postgres", "mariadb", "redis"], {}, [`${buildDir}/test/servers/*.test.js`]);
  }

  console.log("\n== database matrix summary");
  for (const line of summary) console.log(line);
  process.exit(failed ? 1 : 0);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
