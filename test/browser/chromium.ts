import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";

/** Debian's Chromium (apt package `chromium`); never a browser a tool downloads. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Headless, and quiet on a machine whose network is closed. */
export const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
  "--disable-sync", "--disable-quic", "--no-first-run",
];

/** Where browser tests leave their screenshots (the repository's `test-results/`). */
export const RESULTS = join(__dirname, "..", "..", "..", "test-results");

/** Starts Debian's Chromium for a test. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
}
