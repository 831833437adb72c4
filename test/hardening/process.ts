import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";

/** The compiled example server beside this build's tests (`<outDir>/server.js`). */
export const SERVER_SCRIPT = join(__dirname, "..", "..", "server.js");

/** A free loopback port (there is a small window before the server takes it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.unref();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** The example app's server as a separate process: `node <outDir>/server.js`. */
export interface ServerProcess {
  child: ChildProcess;
  pid: number;
  port: number;
  base: string;
  /** What it printed, for failure messages. */
  output(): string;
  /** Resident memory in bytes, from /proc (Linux). */
  rss(): number;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/** Starts the server on a database URL and waits until it listens. */
export async function startServerProcess(databaseUrl: string, env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ServerProcess> {
  const port = await freePort();
  let output = "";
  const child = spawn(process.execPath, [SERVER_SCRIPT], {
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), SESSION_SECRET: "hardening secret", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  // The server never outlives the process that started it (a failed test, Ctrl-C in a soak).
  const killOnExit = () => { if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL"); };
  process.once("exit", killOnExit);
  child.once("exit", () => process.removeListener("exit", killOnExit));
  child.stdout!.on("data", (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr!.on("data", (chunk: Buffer) => { output += chunk.toString(); });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in ${timeoutMs} ms:\n${output}`)), timeoutMs);
    const check = () => {
      if (/ajax-endpoints demo on/.test(output)) { clearTimeout(timer); resolve(); }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`server exited with ${code}:\n${output}`)); });
  });
  return {
    child, pid: child.pid!, port, base: `http://127.0.0.1:${port}`,
    output: () => output,
    rss: () => {
      const status = readFileSync(`/proc/${child.pid}/status`, "utf8");
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
    },
    async kill(signal) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}
