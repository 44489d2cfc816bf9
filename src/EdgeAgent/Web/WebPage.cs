using System.Security.Cryptography;
using System.Text;

namespace EdgeMeter.Agent.Web;

/// <summary>
/// The one page the gateway serves: self-contained (no external assets), mobile-first, rendering /api/status every
/// two seconds with plain DOM calls. Inline style and script are allowed by their SHA-256 hashes in the
/// Content-Security-Policy, so nothing else (injected markup, a label containing script) can run.
/// </summary>
internal static class WebPage
{
    private const string Style = """

:root{color-scheme:light dark;--bg:#f4f6f8;--card:#fff;--ink:#17202a;--mute:#5d6d7e;--line:#dfe4ea;--ok:#1e8449;--bad:#c0392b;--warn:#b9770e;--acc:#1f618d}
@media (prefers-color-scheme:dark){:root{--bg:#11161c;--card:#1b232c;--ink:#e8edf2;--mute:#9aa8b6;--line:#2c3844;--acc:#5dade2}}
*{box-sizing:border-box}
[hidden]{display:none!important}
body{margin:0;font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:var(--bg);color:var(--ink)}
header{display:flex;align-items:center;justify-content:space-between;padding:12px 16px;background:var(--acc);color:#fff}
h1{font-size:1.2rem;margin:0}
h2{font-size:1rem;margin:0 0 8px;color:var(--mute);text-transform:uppercase;letter-spacing:.04em}
main{padding:12px;display:grid;gap:12px;max-width:720px;margin:0 auto}
.card{background:var(--card);border:1px solid var(--line);border-radius:12px;padding:14px 16px}
.badge{font-size:.8rem;padding:3px 10px;border-radius:99px;background:rgba(255,255,255,.2);white-space:nowrap}
.badge.ok{background:var(--ok)}.badge.bad{background:var(--bad)}
.amount{font-size:2rem;font-weight:700;font-variant-numeric:tabular-nums}
.sub{color:var(--mute);font-size:.85rem}
.tag{display:inline-block;font-size:.7rem;font-weight:700;padding:1px 7px;border-radius:4px;vertical-align:middle;margin-left:6px}
.tag.conf{background:var(--ok);color:#fff}.tag.prov{background:var(--warn);color:#fff}
.row{padding:8px 0;border-top:1px solid var(--line)}.row:first-of-type{border-top:0}
dl{display:grid;grid-template-columns:auto 1fr;gap:4px 12px;margin:8px 0 0}
dt{color:var(--mute)}dd{margin:0;text-align:right;font-variant-numeric:tabular-nums;overflow-wrap:anywhere}
ul{list-style:none;margin:0;padding:0}
li{display:flex;justify-content:space-between;align-items:baseline;padding:8px 0;border-top:1px solid var(--line);gap:8px}
li:first-child{border-top:0}
.kw{font-size:1.3rem;font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}
.off{color:var(--bad)}
.addr{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;overflow-wrap:anywhere}
label{display:block;margin:10px 0 4px;font-size:.9rem;color:var(--mute)}
input{width:100%;font:inherit;padding:10px;border:1px solid var(--line);border-radius:8px;background:var(--bg);color:var(--ink)}
input#code{font-size:1.5rem;letter-spacing:.3em;text-align:center;font-variant-numeric:tabular-nums}
button{margin-top:12px;width:100%;font:inherit;font-weight:600;padding:12px;border:0;border-radius:8px;background:var(--acc);color:#fff}
button.link{background:none;color:var(--acc);padding:6px 0;width:auto}
#pair-msg{margin:8px 0 0;min-height:1.2em}#pair-msg.bad{color:var(--bad)}#pair-msg.ok{color:var(--ok)}
footer{text-align:center;color:var(--mute);font-size:.8rem;padding:8px 16px 24px}
footer.bad{color:var(--bad)}

""";

    private const string Script = """

"use strict";
const $ = (id) => document.getElementById(id);
const nf = (v, max) => Number(v).toLocaleString("en-US", { maximumFractionDigits: max });
const tok = (v) => v == null ? "\u2014" : nf(v, 2) + " tok";
const kw = (w) => w == null ? "\u2014" : nf(w / 1000, 2) + " kW";
const fac = (v) => v == null ? "\u2014" : Number(v).toFixed(2);
const when = (t) => t ? new Date(t).toLocaleString() : "\u2014";
const sourceNames = { gridImport: "Grid import", gridExport: "Grid export", pv: "PV", battery: "Battery", wind: "Wind", chp: "CHP", heat: "Heat", other: "Other" };
let pairingOpen = false;

function text(id, value) { const e = $(id); if (e.textContent !== value) e.textContent = value; }

function render(s) {
  text("balance", tok(s.confirmedBalance));
  const p = s.provisional;
  text("prov-total", p ? (p.totalTokens >= 0 ? "+" : "") + nf(p.totalTokens, 0) + " tok" : "\u2014");
  text("prov-month", p ? "Month " + p.month : "Not enough data yet this month");
  text("f-clean", p ? nf(p.cleanShare * 100, 1) + " %" : "\u2014");
  text("f-demand", p ? fac(p.fDemand) : "\u2014");
  text("f-supply", p ? fac(p.fSupply) : "\u2014");
  text("f-cong", p ? fac(p.congestionFactor) : "\u2014");
  text("t-carbon", p ? nf(p.carbonTokens, 0) : "\u2014");
  text("t-cong", p ? nf(p.congestionTokens, 0) : "\u2014");

  const list = $("meters");
  list.replaceChildren();
  if (s.meters.length === 0) {
    const li = document.createElement("li"); li.textContent = "No meters configured"; list.append(li);
  }
  for (const m of s.meters) {
    const li = document.createElement("li");
    const left = document.createElement("div");
    const name = document.createElement("div"); name.textContent = m.id;
    const sub = document.createElement("div"); sub.className = "sub";
    sub.textContent = (sourceNames[m.source] || m.source) + (m.energyKwh == null ? "" : " \u00b7 " + nf(m.energyKwh, 1) + " kWh");
    left.append(name, sub);
    const right = document.createElement("div");
    right.className = m.online ? "kw" : "kw off";
    right.textContent = m.online ? kw(m.activePowerW) : "offline";
    li.append(left, right);
    list.append(li);
  }

  const up = $("uplink");
  up.textContent = s.uplinkConnected ? "Uplink connected" : "Uplink down";
  up.className = s.uplinkConnected ? "badge ok" : "badge bad";
  text("device", s.deviceAddress);
  text("version", s.version);
  text("clock", s.timeStatus);
  const c = s.counters;
  text("c-read", nf(c.readings, 0)); text("c-signed", nf(c.signed, 0)); text("c-stored", nf(c.stored, 0));
  text("c-pub", nf(c.published, 0)); text("c-conf", nf(c.confirmed, 0)); text("c-out", nf(c.outboxPending, 0));
  renderPairing(s.pairing);
}

function renderPairing(p) {
  text("pair-state", p.paired ? "Paired with " + (p.label ? p.label : "operator account") : "Not paired");
  $("pair-details").hidden = !p.paired;
  if (p.paired) { text("op-addr", p.operatorAddress); text("paired-at", when(p.pairedAt)); }
  $("pair-form").hidden = p.paired && !pairingOpen;
  $("repair").hidden = !p.paired || pairingOpen;
  text("pair-hint", p.locked ? "Too many wrong codes. Try again after " + new Date(p.lockedUntil).toLocaleTimeString() + "."
    : "Enter the 6-digit code shown on the gateway display.");
}

async function poll() {
  try {
    const r = await fetch("/api/status", { cache: "no-store" });
    if (!r.ok) throw new Error("HTTP " + r.status);
    render(await r.json());
    const f = $("updated"); f.className = ""; f.textContent = "Updated " + new Date().toLocaleTimeString();
  } catch (e) {
    const f = $("updated"); f.className = "bad"; f.textContent = "Gateway not reachable, retrying\u2026";
  } finally {
    setTimeout(poll, 2000);
  }
}

async function post(path, body) {
  const r = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body), cache: "no-store" });
  let j = {}; try { j = await r.json(); } catch (e) { }
  return { ok: r.ok, j };
}

$("pair-form").addEventListener("submit", async (ev) => {
  ev.preventDefault();
  const msg = $("pair-msg");
  msg.className = ""; msg.textContent = "Pairing\u2026";
  try {
    const { ok, j } = await post("/api/pair", { code: $("code").value.trim(), operatorAddress: $("operator").value.trim(), label: $("label").value.trim() });
    msg.className = ok ? "ok" : "bad";
    msg.textContent = ok ? "Paired." : (j.error || "Pairing failed.");
    if (ok) { pairingOpen = false; $("code").value = ""; if (j.pairing) renderPairing(j.pairing); }
  } catch (e) { msg.className = "bad"; msg.textContent = "Gateway not reachable."; }
});

$("repair").addEventListener("click", async () => {
  const msg = $("pair-msg");
  try {
    const { ok, j } = await post("/api/pair/code", {});
    msg.className = ok ? "" : "bad";
    msg.textContent = ok ? "A new code is shown on the gateway display." : (j.error || "Could not request a code.");
    if (ok) { pairingOpen = true; if (j.pairing) renderPairing(j.pairing); }
  } catch (e) { msg.className = "bad"; msg.textContent = "Gateway not reachable."; }
});

poll();

""";

    private const string Body = """
<header><h1>EdgeMeter gateway</h1><span id="uplink" class="badge">&hellip;</span></header>
<main>
<section class="card" aria-labelledby="h-tokens">
<h2 id="h-tokens">Tokens</h2>
<div class="row">
<div>Confirmed balance<span class="tag conf">CONFIRMED</span></div>
<div id="balance" class="amount">&mdash;</div>
<div class="sub">Confirmed by the chain (ledger).</div>
</div>
<div class="row">
<div>This month, provisional<span class="tag prov">ESTIMATE</span></div>
<div id="prov-total" class="amount">&mdash;</div>
<div class="sub"><span id="prov-month">&mdash;</span>. Computed on this gateway, not yet confirmed by the chain.</div>
<dl>
<dt>Clean share</dt><dd id="f-clean">&mdash;</dd>
<dt>Demand factor F<sub>d</sub></dt><dd id="f-demand">&mdash;</dd>
<dt>Supply factor F<sub>s</sub></dt><dd id="f-supply">&mdash;</dd>
<dt>Congestion factor</dt><dd id="f-cong">&mdash;</dd>
<dt>Carbon tokens</dt><dd id="t-carbon">&mdash;</dd>
<dt>Congestion tokens</dt><dd id="t-cong">&mdash;</dd>
</dl>
</div>
</section>
<section class="card" aria-labelledby="h-power">
<h2 id="h-power">Live power</h2>
<ul id="meters"><li>&mdash;</li></ul>
</section>
<section class="card" aria-labelledby="h-pair">
<h2 id="h-pair">Pairing</h2>
<div id="pair-state">&mdash;</div>
<dl id="pair-details" hidden>
<dt>Operator</dt><dd id="op-addr" class="addr"></dd>
<dt>Paired at</dt><dd id="paired-at"></dd>
</dl>
<button id="repair" class="link" type="button" hidden>Pair with another account&hellip;</button>
<form id="pair-form" hidden autocomplete="off">
<p id="pair-hint" class="sub"></p>
<label for="code">Pairing code</label>
<input id="code" name="code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required placeholder="000000">
<label for="operator">Operator account address</label>
<input id="operator" name="operator" class="addr" pattern="0[xX][0-9a-fA-F]{40}" maxlength="42" required placeholder="0x&hellip;" spellcheck="false" autocapitalize="off">
<label for="label">Label (optional)</label>
<input id="label" name="label" maxlength="64" placeholder="e.g. Sunny Street community">
<button type="submit">Pair</button>
</form>
<p id="pair-msg" role="status"></p>
</section>
<section class="card" aria-labelledby="h-gw">
<h2 id="h-gw">Gateway</h2>
<dl>
<dt>Device address</dt><dd id="device" class="addr">&mdash;</dd>
<dt>Version</dt><dd id="version">&mdash;</dd>
<dt>Clock</dt><dd id="clock">&mdash;</dd>
<dt>Readings</dt><dd id="c-read">&mdash;</dd>
<dt>Signed</dt><dd id="c-signed">&mdash;</dd>
<dt>Stored</dt><dd id="c-stored">&mdash;</dd>
<dt>Published</dt><dd id="c-pub">&mdash;</dd>
<dt>Confirmed by ledger</dt><dd id="c-conf">&mdash;</dd>
<dt>Waiting to send</dt><dd id="c-out">&mdash;</dd>
</dl>
</section>
</main>
<footer id="updated">Connecting&hellip;</footer>
""";

    /// <summary>The page as UTF-8 bytes.</summary>
    public static readonly byte[] Html = Encoding.UTF8.GetBytes(string.Concat(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">",
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">",
        "<meta name=\"color-scheme\" content=\"light dark\">",
        "<title>EdgeMeter gateway</title><link rel=\"icon\" href=\"data:,\">",
        "<style>", Style, "</style></head><body>", Body,
        "<script>", Script, "</script></body></html>\n"));

    /// <summary>
    /// Only our own inline style and script, fetches to the same origin, no frames, no forms posted elsewhere.
    /// </summary>
    public static readonly string ContentSecurityPolicy = string.Concat(
        "default-src 'none'; ",
        "style-src '", Hash(Style), "'; ",
        "script-src '", Hash(Script), "'; ",
        "connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'");

    private static string Hash(string inline) => "sha256-" + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(inline)));
}
