import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { CookieClient } from "../../test/support/http";
import { cookieHeader } from "../../test/support/events";

/**
 * The change feed under load: SUBSCRIBERS feeds (default 1000) on one server, spread over
 * USERS sessions (default 1: every feed one user's; 50: fifty users' groups), then one write;
 * the time until the last feed has its event, and the server's RSS before and after.
 *
 *   npm run build && node dist/bench/live/run.js
 *   SUBSCRIBERS=1000 USERS=50 node dist/bench/live/run.js
 */
const SUBSCRIBERS = Number(process.env.SUBSCRIBERS ?? 1000);
const USERS = Number(process.env.USERS ?? 1);
const WRITES = Number(process.env.WRITES ?? 5);

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function main(): Promise<void> {
  const server = spawn(process.execPath, [join(__dirname, "server.js")], { env: { ...process.env, USERS: String(USERS) }, stdio: ["ignore", "pipe", "inherit"] });
  const url: string = await new Promise((resolve, reject) => {
    server.stdout.once("data", (chunk: Buffer) => resolve(JSON.parse(chunk.toString()).url));
    server.once("exit", (code) => reject(new Error(`server exited ${code}`)));
  });
  try {
    const alice = new CookieClient();
    await alice.login(url, "alice");
    const sessions: CookieClient[] = [];
    for (let i = 0; i < USERS; i++) {
      const client = new CookieClient();
      await client.login(url, USERS === 1 ? "bob" : `user${i}`, USERS === 1 ? "bob-password" : "user-password");
      sessions.push(client);
    }
    const idle = rssMb(server.pid!);
    const agent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const received: number[][] = Array.from({ length: WRITES }, () => []);
    let expected = 0;
    let opened = 0;
    await Promise.all(Array.from({ length: SUBSCRIBERS }, (_, index) => new Promise<void>((resolve, reject) => {
      const call = request(`${url}/ajax/blog/article/events`, { agent, headers: { Accept: "text/event-stream", Cookie: cookieHeader(sessions[index % USERS]!.cookies) } });
      call.on("error", reject);
      call.on("response", (response) => {
        if (response.statusCode !== 200) return reject(new Error(`feed ${index}: ${response.statusCode}`));
        response.setEncoding("utf8");
        let buffer = "";
        response.on("data", (chunk: string) => {
          buffer += chunk;
          if (buffer.includes(": ready")) { buffer = buffer.slice(buffer.indexOf(": ready") + 7); opened++; resolve(); }
          let at: number;
          while ((at = buffer.indexOf("event: created")) >= 0) {
            buffer = buffer.slice(at + 14);
            received[expected]!.push(performance.now());
          }
        });
      });
      call.end();
    })));
    const subscribed = rssMb(server.pid!);
    const rounds: Array<{ writeMs: number; lastEventMs: number; medianEventMs: number }> = [];
    for (let round = 0; round < WRITES; round++) {
      expected = round;
      const start = performance.now();
      const response = await alice.post(url, "/ajax/blog/article.json", { title: `Bench ${round}`, published: true, tags: "bench" });
      if (response.status !== 200) throw new Error(`write: ${response.status}`);
      const written = performance.now();
      const deadline = Date.now() + 30_000;
      while (received[round]!.length < SUBSCRIBERS && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 2));
      const times = received[round]!.map((at) => at - start).sort((a, b) => a - b);
      if (times.length < SUBSCRIBERS) throw new Error(`round ${round}: ${times.length} of ${SUBSCRIBERS} feeds had the event`);
      rounds.push({ writeMs: +(written - start).toFixed(1), lastEventMs: +times.at(-1)!.toFixed(1), medianEventMs: +times[Math.floor(times.length / 2)]!.toFixed(1) });
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const after = rssMb(server.pid!);
    console.log(JSON.stringify({
      subscribers: SUBSCRIBERS, users: USERS, opened, rounds,
      rssMb: { beforeFeeds: +idle.toFixed(1), withFeeds: +subscribed.toFixed(1), afterWrites: +after.toFixed(1) },
      node: process.version,
    }, null, 2));
    agent.destroy();
  } finally {
    server.kill();
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
