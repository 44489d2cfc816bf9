// DNS rebinding against the gateway's page in headless Chromium (playwright-core, Debian's /usr/bin/chromium).
// Chromium resolves a foreign name and the gateway's own mDNS name to loopback (--host-resolver-rules), as a
// rebinding attacker's DNS and the LAN's mDNS would resolve them to the gateway; prints one JSON line.
//   node web-rebind.mjs PORT HOSTNAME
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [port, hostname] = process.argv.slice(2);
const evil = "rebind.attacker.example";
const profile = mkdtempSync(join(tmpdir(), "edgemeter-pw-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
    // Chromium's own guard against public pages calling private addresses is off: the gateway must refuse by itself
    // (older browsers, other browsers, and a rebinding attack that makes the page look local all get past it).
    "--disable-features=BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights,PrivateNetworkAccessRespectPreflightResults,LocalNetworkAccessChecks",
    `--host-resolver-rules=MAP ${evil} 127.0.0.1, MAP ${hostname}.local 127.0.0.1`],
});
const out = {};
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  page.setDefaultTimeout(30000);

  // The page itself by the foreign name: refused by the gateway, no page.
  const direct = await page.goto(`http://${evil}:${port}/`);
  out.direct = { status: direct.status(), body: await direct.text(), pairForm: await page.$("#pair-form") !== null };

  // The attacker's own page (served by the attacker before the name is rebound), whose script then calls the
  // gateway's API under the attacker's origin: every call is refused.
  await page.route(`http://${evil}:${port}/evil`, (route) => route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>evil</title>" }));
  await page.goto(`http://${evil}:${port}/evil`);
  out.api = await page.evaluate(async () => {
    const calls = [["GET", "/api/pair"], ["GET", "/api/status"], ["POST", "/api/pair/code"], ["POST", "/api/pair"]];
    const results = [];
    for (const [method, path] of calls) {
      try {
        const r = await fetch(path, { method, headers: method === "POST" ? { "Content-Type": "application/json" } : {}, body: method === "POST" ? "{}" : undefined });
        results.push({ method, path, status: r.status, body: await r.text() });
      } catch (e) {
        results.push({ method, path, status: 0, body: String(e) });
      }
    }
    return results;
  });

  // The gateway's own names still work in the same browser.
  for (const [name, url] of [["mdns", `http://${hostname}.local:${port}/`], ["address", `http://127.0.0.1:${port}/`]]) {
    const r = await page.goto(url);
    await page.waitForSelector("#pair-form:not([hidden])");
    out[name] = { status: r.status(), pairState: await page.textContent("#pair-state") };
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out) + "\n");
