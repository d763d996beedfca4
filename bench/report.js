'use strict';
// Turns bench/run.sh's runs.jsonl into medians, ratios against the goals, a table on stdout and
// artifacts/bench/results.json. Exits 1 when something crashed (and, with --smoke 1, when any
// run reported errors or produced no result); timings never decide the exit status.
const fs = require('fs');
const path = require('path');

const args = {};
for (let i = 2; i < process.argv.length; i += 2) args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
const smoke = args.smoke === '1';
const crashes = Number(args.crashes || 0);
const meta = JSON.parse(args.meta || '{}');
const runs = fs.readFileSync(args.runs, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));

const SERVERS = ['sockeye', 'kestrel', 'raw', 'node'];
const SCENARIOS = {
  a: { title: `(a) ${runs.find((r) => r.scenario === 'a' && r.result)?.result.connections ?? 50} conns x 64 B, window ${runs.find((r) => r.scenario === 'a' && r.result)?.result.window ?? 16}`, metric: 'msgs_per_s', unit: 'msgs/s', ratio: ['sockeye', 'kestrel'], goal: (x) => x >= 1.5, goalText: '>= 1.5' },
  b: { title: `(b) ${runs.find((r) => r.scenario === 'b' && r.result)?.result.connections ?? 4} conns x 64 KiB, window ${runs.find((r) => r.scenario === 'b' && r.result)?.result.window ?? 4}`, metric: 'mb_per_s', unit: 'MB/s', ratio: ['sockeye', 'raw'], goal: (x) => x >= 0.85, goalText: '>= 0.85' },
  c: { title: '(c) 1 conn x 16 B, window 1', metric: 'p50_us', unit: 'p50 us', ratio: ['sockeye', 'node'], goal: null, goalText: 'lower is better' },
  d: { title: `(d) ${fmt(runs.find((r) => r.scenario === 'd' && r.result)?.result.connections ?? 10000, 0)} idle conns`, metric: 'kb_per_conn', unit: 'KiB/conn', ratio: ['sockeye', 'kestrel'], goal: null, goalText: 'lower is better' },
  e: { title: `(e) ${fmt(runs.find((r) => r.scenario === 'e' && r.result)?.result.connections ?? 100000, 0)} idle conns`, metric: 'kb_per_conn', unit: 'KiB/conn', ratio: ['sockeye', 'kestrel'], goal: null, goalText: 'errors must be 0' },
  f: { title: `(f) ${runs.find((r) => r.scenario === 'f' && r.result)?.result.connections ?? 50} conns x 64 B JSON, deflate, window ${runs.find((r) => r.scenario === 'f' && r.result)?.result.window ?? 16}`, metric: 'msgs_per_s', unit: 'msgs/s', ratio: ['sockeye', 'kestrel'], goal: null, goalText: 'higher is better' },
  g: { title: `(g) ${fmt(runs.find((r) => r.scenario === 'g' && r.result)?.result.connections ?? 1000, 0)} idle conns after 1 KiB deflate echo`, metric: 'kb_per_conn', unit: 'KiB/conn', ratio: ['sockeye', 'kestrel'], goal: null, goalText: 'lower is better' },
};
const IDLE = new Set(['d', 'e', 'g']);
const DETAIL = ['msgs_per_s', 'mb_per_s', 'p50_us', 'p90_us', 'p99_us', 'p999_us', 'client_cpu_pct', 'server_cpu_pct', 'server_rss_kb', 'kb_per_conn', 'connected', 'connect_s',
  'tx_bytes_per_msg', 'rx_bytes_per_msg', 'compressed_pct', 'verified_replies', 'echoes', 'compressed_echoes'];

function median(xs) {
  const v = xs.filter((x) => typeof x === 'number').sort((p, q) => p - q);
  if (!v.length) return null;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

function fmt(x, digits) {
  if (x === null || x === undefined) return '-';
  if (digits === undefined) digits = Math.abs(x) >= 1000 ? 0 : Math.abs(x) >= 100 ? 1 : 2;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

const summary = {};
let failedRuns = 0;
for (const [id, sc] of Object.entries(SCENARIOS)) {
  const byServer = {};
  for (const server of SERVERS) {
    const rs = runs.filter((r) => r.scenario === id && r.server === server);
    if (!rs.length) continue;
    const ok = rs.filter((r) => r.result);
    const s = { runs: rs.length, results: ok.length, errors: ok.reduce((n, r) => n + r.result.errors, 0) };
    for (const k of DETAIL) s[k] = median(ok.map((r) => r.result[k]));
    s.first_error = ok.map((r) => r.result.first_error).find(Boolean) ?? null;
    s.extensions = ok.map((r) => r.result.extensions).find(Boolean) ?? null;
    // Throughput per second of server CPU: steadier than msgs/s when other work shares the server's core.
    s.msgs_per_server_cpu_s = median(ok.map((r) => (r.result.server_cpu_pct > 0 ? r.result.msgs_per_s / (r.result.server_cpu_pct / 100) : null)));
    s.crashed = rs.some((r) => !r.server_alive);
    failedRuns += rs.length - ok.length;
    byServer[server] = s;
  }
  if (!Object.keys(byServer).length) continue;
  const [num, den] = sc.ratio;
  const ratio = byServer[num]?.[sc.metric] && byServer[den]?.[sc.metric] ? byServer[num][sc.metric] / byServer[den][sc.metric] : null;
  summary[id] = {
    title: sc.title,
    metric: sc.metric,
    servers: byServer,
    ratio: ratio === null ? null : { of: `${num}/${den}`, value: Number(ratio.toFixed(3)), goal: sc.goalText, met: sc.goal && ratio !== null ? sc.goal(ratio) : null },
  };
}

// Main table: one line per scenario, the scenario's metric per server, then the ratio.
const present = SERVERS.filter((s) => Object.values(summary).some((x) => x.servers[s]));
const rows = [['scenario', 'metric', ...present, 'ratio', 'goal']];
for (const [id, x] of Object.entries(summary)) {
  const r = x.ratio;
  let goal = r?.goal ?? '';
  if (r?.met === true) goal += '  met';
  if (r?.met === false) goal += '  missed';
  if (id === 'e') goal = `errors: ${present.filter((s) => x.servers[s]).map((s) => `${s} ${x.servers[s].errors}`).join(', ')}`;
  rows.push([x.title, SCENARIOS[id].unit, ...present.map((s) => fmt(x.servers[s]?.[x.metric])), r ? `${r.of} ${fmt(r.value, 2)}` : '-', goal]);
}
const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
const line = (row) => row.map((cell, c) => (c >= 2 && c < 2 + present.length ? String(cell).padStart(widths[c]) : String(cell).padEnd(widths[c]))).join('  ').trimEnd();

console.log('');
console.log(`Sockeye benchmark${smoke ? ' (smoke: shapes only, numbers meaningless)' : ''}: medians of ${meta.repeat ?? '?'} run(s), ` +
  `${meta.duration_s ?? '?'} s measured after ${meta.warmup_s ?? '?'} s warm-up; servers on CPU 0, load generator on CPU 1${meta.pinned === false ? ' (NOT pinned)' : ''}`);
console.log('');
for (const row of rows) console.log(line(row));

console.log('');
console.log('details (medians; cpu % of one core over the measured window; errors summed over runs)');
const drows = [['scenario', 'server', 'msgs/s', 'MB/s', 'p50 us', 'p90 us', 'p99 us', 'p99.9 us', 'client cpu', 'server cpu', 'server rss KiB', 'KiB/conn', 'connected', 'errors']];
for (const [id, x] of Object.entries(summary)) {
  for (const s of present) {
    const v = x.servers[s];
    if (!v) continue;
    const idle = IDLE.has(id);
    drows.push([id, s, ...(idle ? ['-', '-', '-', '-', '-', '-', '-', '-', '-'] : [fmt(v.msgs_per_s), fmt(v.mb_per_s), fmt(v.p50_us), fmt(v.p90_us), fmt(v.p99_us), fmt(v.p999_us), fmt(v.client_cpu_pct, 0), fmt(v.server_cpu_pct, 0), fmt(v.server_rss_kb, 0)]),
      idle ? fmt(v.kb_per_conn) : '-', idle ? fmt(v.connected, 0) : '-', `${v.errors}${v.results < v.runs ? ` (${v.runs - v.results} no result)` : ''}${v.crashed ? ' CRASHED' : ''}`]);
  }
}
const dw = drows[0].map((_, c) => Math.max(...drows.map((row) => String(row[c]).length)));
for (const row of drows) console.log(row.map((cell, c) => (c >= 2 ? String(cell).padStart(dw[c]) : String(cell).padEnd(dw[c]))).join('  ').trimEnd());
for (const [id, x] of Object.entries(summary)) {
  for (const s of present) if (x.servers[s]?.first_error) console.log(`  ${id} ${s}: first error: ${x.servers[s].first_error}`);
}

// Compressed scenarios: what each server agreed to and what went over the wire.
if (summary.f || summary.g) {
  console.log('');
  console.log(`permessage-deflate (f, g): the client offers "permessage-deflate; ${meta.deflate_offer ?? '?'}" and sends every message ` +
    'compressed on its own; servers compress every echo: sockeye serve ' + (meta.sockeye_deflate_args || '(defaults)') +
    ', Kestrel DangerousEnableCompression, Node ws perMessageDeflate threshold 0; all with server context takeover unless they answer otherwise.');
  console.log('wire bytes are WebSocket frames (header + payload) per message, medians; the JSON messages are 64 B (f) and 1,024 B (g) uncompressed.');
  const zrows = [['scenario', 'server', 'answered', 'B/msg client->server', 'B/msg server->client', 'compressed', 'echoes checked', 'msgs per server cpu-s']];
  for (const id of ['f', 'g']) {
    const x = summary[id];
    if (!x) continue;
    for (const s of present) {
      const v = x.servers[s];
      if (!v) continue;
      zrows.push([id, s, v.extensions ?? '-',
        id === 'f' ? fmt(v.tx_bytes_per_msg, 1) : '-', id === 'f' ? fmt(v.rx_bytes_per_msg, 1) : '-',
        id === 'f' ? `${fmt(v.compressed_pct, 1)} %` : `${fmt(v.compressed_echoes, 0)}/${fmt(v.echoes, 0)}`,
        id === 'f' ? fmt(v.verified_replies, 0) : fmt(v.echoes, 0),
        id === 'f' ? fmt(v.msgs_per_server_cpu_s, 0) : '-']);
    }
  }
  const zw = zrows[0].map((_, c) => Math.max(...zrows.map((row) => String(row[c]).length)));
  for (const row of zrows) console.log(row.map((cell, c) => (c >= 3 ? String(cell).padStart(zw[c]) : String(cell).padEnd(zw[c]))).join('  ').trimEnd());
  console.log('msgs per server cpu-s: msgs/s divided by the server\'s share of its core (median over runs); when the server is below ~95 % cpu, other work on its core or waiting limited it.');
  if (meta.generator_check) console.log(`generator self-check (bench/check-generator.sh): ${meta.generator_check}`);
}
for (const [id, x] of Object.entries(summary)) {
  for (const s of present) {
    const v = x.servers[s];
    if (v && v.client_cpu_pct >= 90 && !IDLE.has(id)) {
      console.log(`  ${id} ${s}: load generator at ${fmt(v.client_cpu_pct, 0)} % CPU: it may be the limit here, not the server`);
    }
  }
}
if (meta.fd_limit && summary.g && meta.g_target) {
  const got = Math.max(...Object.values(summary.g.servers).map((v) => v.connected ?? 0));
  if (got < meta.g_target) console.log(`  (g) held ${fmt(got, 0)} of ${fmt(meta.g_target, 0)}`);
}
if (meta.fd_limit && summary.e) {
  const want = meta.e_target;
  const got = Math.max(...Object.values(summary.e.servers).map((v) => v.connected ?? 0));
  if (got < want) console.log(`  (e) held ${fmt(got, 0)} of ${fmt(want, 0)}: ulimit -n is ${meta.fd_limit}; raise the hard limit for the full count`);
}

const totalErrors = Object.values(summary).reduce((n, x) => n + Object.values(x.servers).reduce((m, v) => m + v.errors, 0), 0);
const out = {
  generated: new Date().toISOString(),
  smoke,
  meta,
  crashes,
  errors: totalErrors,
  summary,
  runs,
};
fs.mkdirSync(path.dirname(args.out), { recursive: true });
fs.writeFileSync(args.out, JSON.stringify(out, null, 2) + '\n');
console.log('');
console.log(`results: ${args.out}`);

if (meta.generator_check === 'failed') {
  console.log('FAILED: bench/check-generator.sh (the load generator mishandles permessage-deflate)');
  process.exit(1);
}
if (crashes > 0) {
  console.log(`FAILED: ${crashes} crash(es) or missing result(s)`);
  process.exit(1);
}
if (smoke && (totalErrors > 0 || failedRuns > 0)) {
  console.log(`FAILED: ${totalErrors} error(s), ${failedRuns} run(s) without a result`);
  process.exit(1);
}
