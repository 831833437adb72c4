import { expect } from "chai";
import { figures } from "./support";
import { runSoak, soakFailures } from "./soak";

/** A short run of `npm run soak`, so that the soak script itself is known to work. */
describe("hardening: a short soak of the server process", function () {
  this.timeout(120_000);

  it("serves a steady mixed workload (reads, writes, tag ops, logins) without a failed request", async () => {
    const seconds = Number(process.env.HARDENING_SOAK_SECONDS) || 10;
    const report = await runSoak({ seconds, rate: 40, concurrency: 16 });
    figures.shortSoak = report;
    expect(soakFailures(report)).to.deep.equal([]);
    expect(report.requests).to.be.above(seconds * 10);
    for (const op of ["list", "get", "create", "update", "tags", "login"]) expect(report.byOp[op] ?? 0, op).to.be.above(0);
  });
});
