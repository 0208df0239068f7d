/**
 * The dashboard's HTML: one page with inline CSS and script (no build step, no external
 * assets), both allowed by a per-response CSP nonce. The server puts only two things of its own
 * into it, both escaped: the nonce and a message about the `?swarm=` it was asked for.
 */
import { DASHBOARD_SCRIPT } from './dashboard-script.js';

/** Text made safe for HTML element content and quoted attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/** The Content-Security-Policy for a page with this nonce: nothing but our inline code and our own origin. */
export function dashboardCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    'img-src data:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const STYLE = `
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2330; background: #f7f8fa; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  header { display: flex; flex-wrap: wrap; gap: 1rem; align-items: baseline; justify-content: space-between; }
  .muted { color: #667085; }
  form { display: flex; gap: .4rem; align-items: center; }
  input { padding: .3rem .5rem; border: 1px solid #c4c9d4; border-radius: 4px; }
  button { padding: .3rem .7rem; border: 1px solid #8a94a8; border-radius: 4px; background: #fff; cursor: pointer; }
  .message { margin: .75rem 0; padding: .5rem .75rem; border-radius: 4px; background: #fde8e8; color: #8a1c1c; border: 1px solid #f3b4b4; }
  table { border-collapse: collapse; width: 100%; margin-top: .75rem; background: #fff; }
  .table { overflow-x: auto; }
  th, td { padding: .35rem .6rem; border-bottom: 1px solid #e4e7ec; text-align: right; vertical-align: top; white-space: nowrap; }
  th:first-child, td:first-child { text-align: left; white-space: normal; overflow-wrap: anywhere; min-width: 12rem; }
  td[data-field="publisher"] { white-space: normal; text-align: left; min-width: 13rem; font-size: .9em; }
  td[data-field="publisher"] span { display: inline-block; margin-right: .6rem; }
  td[data-field="publisher"] b { font-weight: 600; color: #667085; }
  th { background: #eef1f6; font-weight: 600; white-space: normal; }
  tfoot td { font-weight: 600; border-top: 2px solid #c4c9d4; }
  tr.selected { background: #eaf2ff; }
  code { font-size: .8em; color: #667085; }
  a { color: #1d4ed8; }
  section { margin-top: 1.25rem; background: #fff; padding: .75rem 1rem; border: 1px solid #e4e7ec; border-radius: 6px; }
  svg { width: 100%; max-width: 720px; height: auto; display: block; }
  svg .axis { stroke: #8a94a8; stroke-width: 1; }
  svg path { fill: none; stroke-width: 2; }
  svg .edge, .key-edge { stroke: #d97706; color: #d97706; }
  svg .peer, .key-peer { stroke: #059669; color: #059669; }
  svg text { font-size: 11px; fill: #667085; }
  .figures { display: flex; gap: 1.5rem; flex-wrap: wrap; }
`;

/**
 * The page. `swarmMessage`: why the `?swarm=` asked for is not shown (malformed, unknown), put
 * in as escaped text; the script keeps that element up to date afterwards.
 */
export function dashboardPage(nonce: string, swarmMessage?: string): string {
  const message = swarmMessage === undefined ? '' : escapeHtml(swarmMessage);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Edge dashboard</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">${STYLE}</style>
</head>
<body data-view="public" data-refreshes="0">
<header>
  <div>
    <h1>Edge dashboard</h1>
    <span class="muted">Swarms on this edge: peers, and bytes the edge seed served against bytes peers reported exchanging. <span id="view">public view</span>, <span id="updated">loading...</span></span>
  </div>
  <form id="token-form" autocomplete="off">
    <label for="token">Publish token</label>
    <input id="token" type="password" placeholder="for the publisher view">
    <button type="submit">Unlock</button>
    <button type="button" id="lock">Lock</button>
  </form>
</header>
<div id="error" class="message" role="alert" hidden></div>
<div id="swarm-message" class="message" role="alert"${message ? '' : ' hidden'}>${message}</div>
<div class="table">
<table id="swarms">
  <thead id="swarms-head"></thead>
  <tbody id="swarms-body"></tbody>
  <tfoot id="swarms-foot"></tfoot>
</table>
</div>
<p id="empty" class="muted" hidden>No swarms yet: publish a torrent or announce to this tracker.</p>
<section id="detail" hidden>
  <h2 id="detail-name"></h2>
  <code id="detail-hash"></code>
  <p class="figures">
    <span class="key-edge">Edge seed: <strong id="detail-edge"></strong></span>
    <span class="key-peer">Peers: <strong id="detail-peer"></strong></span>
    <span>Offload: <strong id="detail-offload"></strong></span>
  </p>
  <svg id="chart" viewBox="0 0 720 240" role="img" aria-label="bytes over time: edge seed against peers"></svg>
</section>
<script nonce="${nonce}">${DASHBOARD_SCRIPT}</script>
</body>
</html>
`;
}
