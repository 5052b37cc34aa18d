/**
 * The admin page's HTML and CSS, served by the admin listener at /admin/. They live in TypeScript strings
 * so `npm run build` (tsc only) ships them inside dist/ with no copy step. The script is a separate
 * same-origin file (page-script.ts), so helmet's default CSP (`script-src 'self'`) holds without inline code.
 */
export { ADMIN_JS } from './page-script';

export const ADMIN_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>linkis-gateway · admin</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/admin/app.css">
<script src="/admin/app.js" defer></script>
</head>
<body>
<header>
  <h1>linkis-gateway <span class="muted">token allowlist</span></h1>
  <div id="who" hidden>Signed in as <strong id="who-name"></strong> <button id="sign-out" type="button">Sign out</button></div>
</header>
<main>
  <div id="error" class="banner error" role="alert" hidden>
    <span id="error-text"></span>
    <button id="error-reload" type="button" hidden>Reload</button>
    <button id="error-close" type="button" aria-label="Dismiss">×</button>
  </div>
  <div id="notice" class="banner notice" role="status" hidden></div>

  <section id="signin" class="card" hidden>
    <h2>Sign in</h2>
    <form id="signin-form">
      <label>Admin token <input id="admin-token" type="password" autocomplete="current-password" required></label>
      <button type="submit">Sign in</button>
    </form>
    <p class="muted">Your admin token is in the gateway's admin.properties (ask the operator). This page keeps it for this tab only.</p>
  </section>

  <div id="app" hidden>
    <section class="card">
      <h2>Create a token</h2>
      <form id="create-form">
        <label>May act as <input id="create-users" placeholder="alice,bob — or * for any user" required></label>
        <label>Label <input id="create-label" placeholder="who uses it, e.g. BI reports" maxlength="100"></label>
        <button type="submit">Create token</button>
      </form>
      <div id="created" class="created" hidden>
        <p><strong>New token for <span id="created-users"></span>.</strong> It is shown only this once: copy it now and give it to the service that will use it.</p>
        <p class="token-line"><code id="created-token"></code> <button id="copy-token" type="button">Copy</button> <span id="copied" class="muted" hidden>Copied</span></p>
        <p class="muted">Fingerprint <code id="created-fingerprint"></code>. Its label is the comment line above it in proxy.properties.</p>
        <button id="created-done" type="button">I have stored it</button>
      </div>
    </section>

    <section class="card">
      <h2>Tokens <span id="count" class="muted"></span></h2>
      <div class="toolbar">
        <input id="search" type="search" placeholder="Search by label, fingerprint or user" aria-label="Search">
        <button id="reload" type="button">Reload</button>
        <span id="version" class="muted"></span>
      </div>
      <div id="file-problems" class="banner warning" hidden></div>
      <div id="weak-tokens" class="banner warning" role="status" hidden></div>
      <table id="tokens">
        <thead><tr><th>Token</th><th>May act as</th><th>Created</th><th title="The last request the gateway let through with it">Last used</th><th>Add users</th><th></th></tr></thead>
        <tbody></tbody>
      </table>
      <p id="empty" class="muted" hidden>No token matches.</p>
    </section>

    <section class="card">
      <h2>Recent changes <span class="muted">(audit: admins, the CLI and edits of proxy.properties by hand)</span></h2>
      <table id="audit">
        <thead><tr><th>When</th><th>Who</th><th>What changed</th></tr></thead>
        <tbody></tbody>
      </table>
      <p id="audit-empty" class="muted" hidden>No change recorded yet.</p>
    </section>

    <section class="card">
      <h2>Entrances</h2>
      <table id="entrances">
        <thead><tr><th>Instance</th><th>Address</th><th>State</th><th>In flight</th><th></th></tr></thead>
        <tbody></tbody>
      </table>
      <p class="muted">Drain an Entrance before restarting it: no worker of this gateway sends it new submissions, and its running jobs are still served. Other gateway replicas keep their own state, and a restart of this gateway starts again from gateway.entrance.draining.</p>
    </section>
  </div>

  <dialog id="confirm">
    <p id="confirm-text"></p>
    <div class="actions">
      <button id="confirm-cancel" type="button">Cancel</button>
      <button id="confirm-ok" type="button" class="danger">Confirm</button>
    </div>
  </dialog>
</main>
</body>
</html>
`;

export const ADMIN_CSS = `
[hidden] { display: none !important; } /* the banners' display: flex must not override hidden */
:root { font-family: system-ui, sans-serif; color: #1d232b; background: #f4f6f8; }
body { margin: 0; }
header { display: flex; justify-content: space-between; align-items: center; padding: 12px 24px; background: #1f3a5f; color: #fff; }
header h1 { font-size: 18px; margin: 0; }
header .muted { color: #c8d4e3; font-weight: normal; }
main { max-width: 1100px; margin: 16px auto; padding: 0 16px; }
.card { background: #fff; border: 1px solid #d8dee6; border-radius: 6px; padding: 12px 18px; margin-bottom: 16px; }
h2 { font-size: 16px; }
.muted { color: #67717d; font-size: 13px; }
label { margin-right: 8px; }
input { padding: 5px 8px; border: 1px solid #aab4c0; border-radius: 4px; font: inherit; }
#create-users, #search { width: 280px; }
button { padding: 5px 10px; border: 1px solid #8796a8; border-radius: 4px; background: #eef2f6; font: inherit; cursor: pointer; }
button:hover { background: #dde5ee; }
button.danger { background: #b3261e; border-color: #8c1d17; color: #fff; }
button.danger:hover { background: #8c1d17; }
.banner { padding: 10px 14px; border-radius: 6px; margin-bottom: 12px; display: flex; gap: 10px; align-items: center; }
.banner span { flex: 1; }
.error { background: #fde8e7; border: 1px solid #e0a6a2; }
.notice { background: #e7f4ea; border: 1px solid #9fcfa9; }
.warning { background: #fff4d6; border: 1px solid #e5c66b; display: block; }
.created { margin-top: 12px; padding: 10px 14px; background: #fff9e0; border: 1px solid #e5c66b; border-radius: 6px; }
.token-line code { font-size: 15px; padding: 4px 6px; background: #fff; border: 1px solid #d8dee6; user-select: all; }
.toolbar { display: flex; gap: 8px; align-items: center; margin-bottom: 8px; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid #e4e8ee; vertical-align: middle; }
th { font-size: 13px; color: #4a5562; }
td code { font-size: 13px; }
.chip { display: inline-flex; align-items: center; gap: 4px; padding: 2px 4px 2px 8px; margin: 2px; border-radius: 12px; background: #e3ebf5; font-size: 13px; }
.chip button { padding: 0 6px; border: none; background: transparent; line-height: 18px; }
.chip.any { background: #fde7c4; padding-right: 8px; }
.add-user input { width: 120px; }
.badge { display: inline-block; margin-left: 6px; padding: 1px 7px; border-radius: 10px; font-size: 12px; font-weight: 600; vertical-align: middle; }
.badge.weak { background: #fde7c4; color: #7a4b00; border: 1px solid #e5b86b; }
.weak-reason { font-size: 12px; color: #7a4b00; margin-top: 2px; }
#create-label { width: 260px; }
#search { width: 320px; }
.token-label { font-weight: 600; }
.token-label.none { font-weight: normal; font-style: italic; color: #67717d; }
.token-meta { font-size: 12px; color: #67717d; margin-top: 2px; }
button.link { border: none; background: none; padding: 0 4px; color: #1f5fa8; text-decoration: underline; font-size: 13px; }
.label-form input { width: 220px; }
.add-user { display: flex; gap: 4px; white-space: nowrap; }
.when { white-space: nowrap; font-size: 13px; }
.when .muted { display: block; font-size: 12px; }
.never { color: #67717d; font-style: italic; }
#audit td { font-size: 13px; }
#audit .refused { color: #b3261e; font-weight: 600; }
.diff-added { color: #1e7b34; }
.diff-removed { color: #b3261e; }
body.busy #app { cursor: progress; }
button:disabled { opacity: 0.55; cursor: not-allowed; }
.state-healthy { color: #1e7b34; }
.state-unhealthy { color: #b3261e; }
.state-draining { color: #9a6a00; }
dialog { border: 1px solid #aab4c0; border-radius: 6px; padding: 18px; max-width: 440px; }
dialog .actions { display: flex; justify-content: flex-end; gap: 8px; }
`;
