// Drives the gateway's local page in headless Chromium (playwright-core, Debian's /usr/bin/chromium) through one
// scenario and prints what the page showed as one JSON line; the C# test asserts on it.
//   node web-setup.mjs setup   URL CODE OPERATOR METER_HOST METER_PORT METER_UNIT DLMS_PORT DLMS_PASSWORD DEAD_PORT [SCREENSHOT_DIR]
//   node web-setup.mjs lockout URL CODE OPERATOR
// DLMS_PORT is a DLMS meter (TCP wrapper, low security with DLMS_PASSWORD) on the meter host; DEAD_PORT a port where
// nothing listens, for the errors the Chinese page must show in Chinese.
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const [mode, url, code, operator, ...rest] = process.argv.slice(2);
// The label is the owner's own text; a Chinese one on the Chinese page, and markup that must stay text.
const label = "<b>阳光街</b>社区";
const profile = mkdtempSync(join(tmpdir(), "edgemeter-pw-"));
const browser = await chromium.launchPersistentContext(profile, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync"],
  viewport: { width: 412, height: 900 },
  locale: "en-US",
});
const out = {};
try {
  const page = browser.pages()[0] ?? await browser.newPage();
  page.setDefaultTimeout(30000);
  await page.goto(url);
  await page.waitForSelector("#pair-form:not([hidden])");

  const pair = async (c) => {
    await page.fill("#code", c);
    await page.fill("#operator", operator);
    await page.fill("#label", label);
    const answer = page.waitForResponse((r) => r.url().endsWith("/api/pair") && r.request().method() === "POST");
    await page.click("#pair-form button[type=submit]");
    const r = await answer;
    await page.waitForFunction(() => document.getElementById("pair-msg").textContent.length > 0 && !document.getElementById("pair-msg").textContent.endsWith("\u2026"));
    return { status: r.status(), message: await page.textContent("#pair-msg") };
  };

  // The visible text of an element, each piece marked when it sits in an address/identifier span.
  const texts = (selector) => page.evaluate((sel) => {
    const out = [];
    for (const root of document.querySelectorAll(sel)) {
      const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const p = n.parentElement;
        if (p.closest("script,style")) continue;
        const s = n.textContent.trim();
        if (s) out.push({ text: s, cls: p.closest(".addr,.id") ? "addr" : "" });
      }
    }
    return out;
  }, selector);
  // Clicks and waits for the message under a form to settle as an error; returns its text and pieces.
  const failure = async (msgId, click) => {
    await page.evaluate((id) => { document.getElementById(id).className = "msg"; document.getElementById(id).textContent = ""; }, msgId);
    await page.click(click);
    await page.waitForFunction((id) => document.getElementById(id).className.includes("bad"), msgId, { timeout: 40000 });
    return { text: await page.textContent("#" + msgId), parts: await texts("#" + msgId) };
  };

  if (mode === "lockout") {
    const wrong = String((Number(code) + 1) % 1000000).padStart(6, "0");
    out.attempts = [];
    for (let i = 0; i < 5; i++) out.attempts.push(await pair(wrong));
    out.sixth = await pair(code);
    out.ownerArea = await page.isVisible("#owner-area");
    // The same refusal on the Chinese page.
    await page.click("#lang-zh");
    await page.waitForFunction(() => document.documentElement.lang === "zh-CN");
    out.sixthZh = await pair(code);
    out.sixthZhParts = await texts("#pair-msg");
    out.hintZh = await texts("#pair-card");
  } else {
    const [host, port, unit, dlmsPort, dlmsPassword, deadPort, shots] = rest;
    out.pair = await pair(code);
    out.pairState = await page.textContent("#pair-state");
    out.boldInjected = await page.$$eval("#pair-state b", (b) => b.length);
    await page.waitForSelector("#owner-area:not([hidden])");
    await page.waitForFunction(() => document.getElementById("m-map").options.length > 0);
    await page.fill("#m-id", "garage-wind");
    await page.selectOption("#m-conn", "tcp");
    await page.fill("#m-host", host);
    await page.fill("#m-port", port);
    await page.fill("#m-unit", unit);
    await page.selectOption("#m-map", "eastron-sdm630");
    await page.selectOption("#m-source", "Wind");
    await page.click("#test-read");
    await page.waitForSelector("#read-table:not([hidden])");
    out.testRead = await page.$$eval("#read-values td[data-quantity]", (tds) => Object.fromEntries(tds.map((td) => [td.dataset.quantity, td.textContent])));
    out.metersBeforeSave = await page.$$eval("#meter-list .id", (e) => e.map((x) => x.textContent));
    await page.click("#save-meter");
    await page.waitForFunction(() => document.getElementById("meter-msg").className.includes("ok") && document.querySelectorAll("#meter-list .id").length > 3);
    out.saveMessage = await page.textContent("#meter-msg");
    out.metersAfterSave = await page.$$eval("#meter-list .id", (e) => e.map((x) => x.textContent));
    // The new meter's live power on the dashboard, once the agent polls it, and the chain's balance.
    await page.waitForFunction(() => [...document.querySelectorAll("#health tr")].some((tr) => tr.cells[0].textContent === "garage-wind" && tr.cells[2].className === "good"));
    out.health = await page.$$eval("#health tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)));
    out.windPower = await page.textContent('#sources .kw[data-source="wind"]');
    // The chain confirms closed months only, so a fresh demo's confirmed balance is 0 tokens, signed by the ledger
    // ("—" until one arrives); the running month's tokens are the provisional figure beside it.
    await page.waitForFunction(() => /\d/.test(document.getElementById("balance").textContent)
      && /[1-9]/.test(document.getElementById("prov-total").textContent), null, { timeout: 60000 });
    out.balance = await page.textContent("#balance");
    out.provisional = await page.textContent("#prov-total");
    out.gridLabel = await page.$$eval("#sources li", (lis) => lis.map((li) => li.textContent));
    out.backlog = await page.textContent("#c-out");
    out.clock = await page.textContent("#clock");
    if (shots) {
      await page.evaluate(() => document.getElementById("dashboard").scrollIntoView());
      await page.screenshot({ path: join(shots, "dashboard-phone.png") });
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.evaluate(() => document.getElementById("dashboard").scrollIntoView());
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(shots, "dashboard-desktop.png") });
    }
    // A DLMS meter through the same form: a wrong password is refused (no values), the right one reads, the save
    // is applied, and the dashboard shows it.
    await page.fill("#m-id", "flat-dlms");
    await page.selectOption("#m-protocol", "dlms");
    await page.selectOption("#m-conn", "tcp");
    await page.fill("#m-host", host);
    await page.fill("#m-port", dlmsPort);
    await page.selectOption("#d-transport", "wrapper");
    await page.selectOption("#d-auth", "low");
    await page.fill("#d-client", "17");
    await page.fill("#d-server", "1");
    await page.fill("#d-password", "not-" + dlmsPassword);
    await page.fill("#d-obis", "1.0.1.8.0.255 1.0.2.8.0.255 1.0.1.7.0.255 1.0.32.7.0.255");
    await page.selectOption("#m-source", "Chp");
    out.dlmsWrong = await failure("meter-msg", "#test-read");
    out.dlmsWrongTable = await page.isVisible("#read-table");
    out.dlmsWrongValues = await page.$$eval("#read-values td", (tds) => tds.length);
    await page.fill("#d-password", dlmsPassword);
    await page.click("#test-read");
    await page.waitForSelector("#read-table:not([hidden])", { timeout: 40000 });
    out.dlmsRead = await page.$$eval("#read-values td[data-quantity]", (tds) => Object.fromEntries(tds.map((td) => [td.dataset.quantity, td.textContent])));
    await page.click("#save-meter");
    await page.waitForFunction(() => document.getElementById("meter-msg").className.includes("ok") && document.querySelectorAll("#meter-list .id").length > 4);
    out.dlmsSaveMessage = await page.textContent("#meter-msg");
    out.metersAfterDlms = await page.$$eval("#meter-list .id", (e) => e.map((x) => x.textContent));
    await page.waitForFunction(() => [...document.querySelectorAll("#health tr")].some((tr) => tr.cells[0].textContent === "flat-dlms" && tr.cells[2].className === "good"), null, { timeout: 60000 });
    out.dlmsHealth = await page.$$eval("#health tr", (trs) => trs.map((tr) => [...tr.cells].map((c) => c.textContent)).filter((r) => r[0] === "flat-dlms")[0]);
    await page.waitForFunction(() => document.querySelector('#sources .kw[data-source="chp"]'));
    out.chpPower = await page.textContent('#sources .kw[data-source="chp"]');

    // Switch to Chinese and collect every piece of text a reader could see or a screen reader could say.
    await page.click("#lang-zh");
    await page.waitForFunction(() => document.documentElement.lang === "zh-CN");
    out.zhTexts = await page.evaluate(() => {
      const texts = [];
      const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let n = walker.nextNode(); n; n = walker.nextNode()) {
        const p = n.parentElement;
        if (p.closest("script,style")) continue;
        const s = n.textContent.trim();
        if (s) texts.push({ text: s, cls: p.closest(".addr,.id") ? "addr" : "" });
      }
      for (const e of document.querySelectorAll("[placeholder],[title],[aria-label]")) {
        for (const a of ["placeholder", "title", "aria-label"]) if (e.getAttribute(a)) texts.push({ text: e.getAttribute(a), cls: e.closest(".addr,.id") ? "addr" : "" });
      }
      texts.push({ text: document.title, cls: "" });
      return texts;
    });
    out.zhBalance = await page.textContent("#balance");
    // Every kind of refusal the page shows, in Chinese: a dead meter, a DLMS meter refusing the password, the
    // configuration rules on save, a dead broker, a bad broker URL, a file that is no certificate.
    const errors = {};
    await page.selectOption("#m-protocol", "modbus");
    await page.fill("#m-id", "dead-meter");
    await page.fill("#m-port", deadPort);
    errors.deadMeter = await failure("meter-msg", "#test-read");
    await page.selectOption("#m-protocol", "dlms");
    await page.fill("#m-port", dlmsPort);
    await page.fill("#d-password", "not-" + dlmsPassword);
    errors.dlmsRefused = await failure("meter-msg", "#test-read");
    await page.selectOption("#d-auth", "hls-gmac");
    await page.fill("#d-block", "0011");
    errors.badKey = await failure("meter-msg", "#save-meter");
    await page.selectOption("#d-auth", "none");
    await page.fill("#d-obis", "1.0.99.1.0.255");
    errors.badObis = await failure("meter-msg", "#save-meter");
    await page.fill("#u-broker", "mqtt://" + host + ":" + deadPort);
    errors.deadBroker = await failure("uplink-msg", "#u-test");
    await page.fill("#u-broker", "ftp://" + host);
    errors.badBroker = await failure("uplink-msg", "#uplink-form button[type=submit]");
    await page.evaluate(() => { document.getElementById("uplink-msg").className = "msg"; });
    await page.setInputFiles("#f-ca", { name: "ca.pem", mimeType: "application/x-pem-file", buffer: Buffer.from("this is not a certificate\n") });
    await page.waitForFunction(() => document.getElementById("uplink-msg").className.includes("bad"));
    errors.notPem = { text: await page.textContent("#uplink-msg"), parts: await texts("#uplink-msg") };
    out.zhErrors = errors;
  }
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify(out) + "\n");
