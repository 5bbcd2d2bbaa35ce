// Opens a byoml report in headless Chromium (Debian's) and, over the DevTools protocol on
// 127.0.0.1, moves the mouse over every element that every chart draws: Sankey nodes and links,
// bars and labels. Prints one JSON line: how many elements were hovered, how many tooltips
// appeared and what they said, the page's script errors, CSP violations, and whether any
// script planted by a name ran (window.__pwned).
// Usage: node hover.mjs REPORT.html
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import WebSocket from 'ws';

const report = resolve(process.argv[2]);
const profile = mkdtempSync(join(tmpdir(), 'byoml-chromium-'));
const browser = spawn('chromium', ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--hide-scrollbars',
  '--remote-debugging-address=127.0.0.1', '--remote-debugging-port=0', `--user-data-dir=${profile}`, 'about:blank'],
  { stdio: 'ignore', detached: true });  // its own process group: its helpers die with it
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const exited = new Promise((r) => browser.on('exit', r));
async function finish(result, code) {
  process.stdout.write(JSON.stringify(result) + '\n');
  try {
    process.kill(-browser.pid, 'SIGKILL');
  } catch {
    browser.kill('SIGKILL');
  }
  await exited;
  // A helper that outlived the kill may still write into the profile for a moment; a temporary
  // folder left behind is not the test's failure.
  for (let i = 0; i < 20; ++i) {
    try {
      rmSync(profile, { recursive: true, force: true });
      break;
    } catch {
      await sleep(200);
    }
  }
  process.exit(code);
}
setTimeout(() => finish({ error: 'timed out' }, 1), 120000);

// Chromium writes the port it chose into the profile.
let port;
for (let i = 0; i < 300 && !port; ++i) {
  const f = join(profile, 'DevToolsActivePort');
  if (existsSync(f)) port = Number(readFileSync(f, 'utf8').split('\n')[0]);
  else await sleep(100);
}
if (!port) await finish({ error: 'chromium did not open its DevTools port' }, 1);
const targets = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
const page = targets.find((t) => t.type === 'page');
const ws = new WebSocket(page.webSocketDebuggerUrl);
await new Promise((r, j) => { ws.on('open', r); ws.on('error', j); });
let nextId = 0;
const pending = new Map();
const exceptions = [];
ws.on('message', (m) => {
  const msg = JSON.parse(m);
  if (msg.id && pending.has(msg.id)) { pending.get(msg.id)(msg); pending.delete(msg.id); }
  if (msg.method === 'Runtime.exceptionThrown') {
    const d = msg.params.exceptionDetails;
    exceptions.push(d.exception && d.exception.description ? d.exception.description.split('\n')[0] : d.text);
  }
});
const send = (method, params = {}) => new Promise((r) => { const id = ++nextId; pending.set(id, r); ws.send(JSON.stringify({ id, method, params })); });
const evaluate = async (expression) => {
  const r = await send('Runtime.evaluate', { expression, returnByValue: true, awaitPromise: true });
  if (r.result.exceptionDetails) throw new Error(JSON.stringify(r.result.exceptionDetails));
  return r.result.result.value;
};

await send('Runtime.enable');
await send('Page.enable');
await send('Emulation.setDeviceMetricsOverride', { width: 1400, height: 4000, deviceScaleFactor: 1, mobile: false });
// Recorded before any page script runs: CSP violations and the planted script's mark.
await send('Page.addScriptToEvaluateOnNewDocument', { source:
  "window.__csp = []; document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));" });
await send('Page.navigate', { url: 'file://' + report });
for (let i = 0; i < 200; ++i) {
  if (await evaluate("document.body && document.body.dataset.ready === 'true'")) break;
  await sleep(100);
}

// Every displayed element of every chart, as page coordinates: its bounding box's centre, and
// for a Sankey link (a Bézier curve) the curve's midpoint.
const points = await evaluate(`(() => {
  const out = [];
  document.querySelectorAll('.chart').forEach((div) => {
    const chart = echarts.getInstanceByDom(div);
    if (!chart) return;
    const box = div.getBoundingClientRect();
    chart.getZr().storage.getDisplayList().forEach((el) => {
      const r = el.getBoundingRect().clone();
      if (el.transform) r.applyTransform(el.transform);
      let x = r.x + r.width / 2, y = r.y + r.height / 2;
      const s = el.shape || {};
      if (s.cpx1 !== undefined) {
        const t = 0.5, u = 1 - t;
        x = u*u*u*s.x1 + 3*u*u*t*s.cpx1 + 3*u*t*t*s.cpx2 + t*t*t*s.x2;
        y = u*u*u*s.y1 + 3*u*u*t*s.cpy1 + 3*u*t*t*s.cpy2 + t*t*t*s.y2;
        if (el.transform) { const m = el.transform; const px = m[0]*x + m[2]*y + m[4]; y = m[1]*x + m[3]*y + m[5]; x = px; }
      }
      if (isFinite(x) && isFinite(y)) out.push({ chart: div.id, x: box.left + window.scrollX + x, y: box.top + window.scrollY + y });
    });
  });
  return out;
})()`);

let tooltips = 0;
const texts = new Set();
for (const p of points) {
  await send('Input.dispatchMouseEvent', { type: 'mouseMoved', x: p.x, y: p.y });
  await sleep(15);
  const tip = await evaluate(`(() => {
    const shown = [...document.querySelectorAll('div')].filter((d) => d.style && d.style.position === 'absolute' &&
      d.style.zIndex === '9999999' && d.style.display !== 'none' && d.style.opacity !== '0');
    return shown.map((d) => ({ text: d.textContent, elements: d.querySelectorAll('img, svg, script, iframe').length }));
  })()`);
  for (const t of tip) {
    if (t.text) { ++tooltips; texts.add(t.text); }
    if (t.elements) exceptions.push('markup element inside a tooltip: ' + t.text);
  }
}
const state = await evaluate(`({ pwned: window.__pwned === undefined ? null : String(window.__pwned), csp: window.__csp,
  errors: Number(document.body.dataset.errors), charts: Number(document.body.dataset.charts),
  images: document.querySelectorAll('img').length })`);
await finish({ hovered: points.length, charts: [...new Set(points.map((p) => p.chart))], tooltips, texts: [...texts].slice(0, 200),
  exceptions, ...state }, 0);
