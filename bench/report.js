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

const SERVERS = ['sockeye', 'kestrel', 'aspnet', 'raw', 'node'];
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
  `${meta.duration_s ?? '?'} s measured after ${meta.warmup_s ?? '?'} s warm-up; servers on CPU 0, load generator on CPU 1${meta.pinned === false ? ' (NOT pinned)' : ''}` +
  `${meta.priority ? '; own session at nice -20 (--priority)' : ''}`);
const echoRan = Object.keys(summary).length > 0;
if (echoRan) {
  console.log('');
  for (const row of rows) console.log(line(row));
  console.log('');
  console.log('details (medians; cpu % of one core over the measured window; errors summed over runs)');
}
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
if (echoRan) for (const row of drows) console.log(row.map((cell, c) => (c >= 2 ? String(cell).padStart(dw[c]) : String(cell).padEnd(dw[c]))).join('  ').trimEnd());
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

// Fan-out (h, i): one publisher, N subscribers; saturated runs (scenario h/i) and fixed-rate runs (h-latency/i-latency).
const FANOUT_SERVERS = ['sockeye', 'ws', 'socketio'];
const FANOUT_GOAL = 3; // deliveries/s, Sockeye / Node ws (the issue's goal)
// Medians of one server's saturated (sat) and fixed-rate (lat) fan-out runs, or null when it has none.
function fanoutServer(sat, lat, server) {
    const rs = sat.filter((r) => r.server === server);
    const ls = lat.filter((r) => r.server === server);
    if (!rs.length && !ls.length) return null;
    const ok = rs.filter((r) => r.result);
    const lok = ls.filter((r) => r.result);
    const m = (xs, k) => median(xs.map((r) => r.result[k]));
    failedRuns += rs.length - ok.length + ls.length - lok.length;
    return {
      runs: rs.length + ls.length,
      results: ok.length + lok.length,
      errors: [...ok, ...lok].reduce((n, r) => n + r.result.errors, 0),
      first_error: [...ok, ...lok].map((r) => r.result.first_error).find(Boolean) ?? null,
      crashed: [...rs, ...ls].some((r) => !r.server_alive),
      deliveries_per_s: m(ok, 'deliveries_per_s'),
      msgs_per_s: m(ok, 'msgs_per_s'),
      server_cpu_pct: m(ok, 'server_cpu_pct'),
      client_cpu_pct: m(ok, 'client_cpu_pct'),
      server_cpu_s_per_m_deliveries: m(ok, 'server_cpu_s_per_m_deliveries'),
      // Deliveries per second of server CPU: what deliveries/s would be on a core of its own (steadier on a busy machine).
      deliveries_per_server_cpu_s: median(ok.map((r) => (r.result.server_cpu_s_per_m_deliveries > 0 ? 1e6 / r.result.server_cpu_s_per_m_deliveries : null))),
      saturated_p50_us: m(ok, 'p50_us'),
      saturated_p99_us: m(ok, 'p99_us'),
      server_alloc_bytes_per_delivery: m(ok, 'server_alloc_bytes_per_delivery'),
      server_gc_gen0: m(ok, 'server_gc_gen0'),
      server_rss_kb: m(ok, 'server_rss_kb'),
      rate: lok[0]?.result.rate ?? null,
      p50_us: m(lok, 'p50_us'),
      p99_us: m(lok, 'p99_us'),
      latency_samples: m(lok, 'latency_samples'),
      rate_deliveries_per_s: m(lok, 'deliveries_per_s'),
      rate_server_cpu_pct: m(lok, 'server_cpu_pct'),
    };
}
const fanout = {};
for (const id of ['h', 'i']) {
  const sat = runs.filter((r) => r.scenario === id);
  const lat = runs.filter((r) => r.scenario === `${id}-latency`);
  if (!sat.length && !lat.length) continue;
  const subscribers = [...sat, ...lat].find((r) => r.result)?.result.subscribers ?? null;
  const servers = {};
  for (const server of FANOUT_SERVERS) {
    const v = fanoutServer(sat, lat, server);
    if (v) servers[server] = v;
  }
  const ratio = (a, b, k) => (servers[a]?.[k] && servers[b]?.[k] ? Number((servers[a][k] / servers[b][k]).toFixed(3)) : null);
  fanout[id] = {
    title: `(${id}) fan-out to ${fmt(subscribers, 0)} subscribers`,
    subscribers,
    servers,
    ratios: {
      deliveries_per_s: { 'sockeye/ws': ratio('sockeye', 'ws', 'deliveries_per_s'), 'sockeye/socketio': ratio('sockeye', 'socketio', 'deliveries_per_s') },
      deliveries_per_server_cpu_s: { 'sockeye/ws': ratio('sockeye', 'ws', 'deliveries_per_server_cpu_s'), 'sockeye/socketio': ratio('sockeye', 'socketio', 'deliveries_per_server_cpu_s') },
      p50_us: { 'sockeye/ws': ratio('sockeye', 'ws', 'p50_us'), 'sockeye/socketio': ratio('sockeye', 'socketio', 'p50_us') },
      p99_us: { 'sockeye/ws': ratio('sockeye', 'ws', 'p99_us'), 'sockeye/socketio': ratio('sockeye', 'socketio', 'p99_us') },
    },
  };
  const r = fanout[id].ratios.deliveries_per_s['sockeye/ws'];
  fanout[id].goal = { text: `deliveries/s sockeye/ws >= ${FANOUT_GOAL}`, value: r, met: r === null ? null : r >= FANOUT_GOAL };
  summary[id] = fanout[id];
}
if (Object.keys(fanout).length) {
  const fm = meta.fanout ?? {};
  console.log('');
  console.log(`fan-out (h, i): 1 publisher, N subscribers on one topic/room, ${fm.size ?? 64} B text; saturated with ${fm.window ?? '?'} messages in flight ` +
    `(not yet delivered to all) for deliveries/s, cpu and allocations; latency = publish to last delivery at a fixed rate (${fm.latency_duration_s ?? '?'} s measured). ` +
    "The publisher's own copy (every server sends it back) is not counted as a delivery.");
  const rows = [['scenario', 'metric', ...FANOUT_SERVERS, 'sockeye/ws', 'sockeye/socketio', 'goal']];
  for (const [id, x] of Object.entries(fanout)) {
    const v = (s, k, d) => fmt(x.servers[s]?.[k], d);
    const rr = (k) => [fmt(x.ratios[k]['sockeye/ws'], 2), fmt(x.ratios[k]['sockeye/socketio'], 2)];
    const rate = Object.values(x.servers).find((s) => s.rate)?.rate;
    const goal = x.goal.met === null ? x.goal.text : `${x.goal.text}  ${x.goal.met ? 'met' : 'missed'}`;
    rows.push([x.title, 'deliveries/s', ...FANOUT_SERVERS.map((s) => v(s, 'deliveries_per_s', 0)), ...rr('deliveries_per_s'), goal]);
    rows.push(['', 'server cpu %', ...FANOUT_SERVERS.map((s) => v(s, 'server_cpu_pct', 0)), '', '', '']);
    rows.push(['', 'server cpu-s / M deliveries', ...FANOUT_SERVERS.map((s) => v(s, 'server_cpu_s_per_m_deliveries', 3)), '', '', 'lower is better']);
    rows.push(['', 'deliveries / server cpu-s', ...FANOUT_SERVERS.map((s) => v(s, 'deliveries_per_server_cpu_s', 0)), ...rr('deliveries_per_server_cpu_s'), '']);
    rows.push(['', `p50 us at ${fmt(rate, 0)} msg/s`, ...FANOUT_SERVERS.map((s) => v(s, 'p50_us', 0)), ...rr('p50_us'), 'lower is better']);
    rows.push(['', `p99 us at ${fmt(rate, 0)} msg/s`, ...FANOUT_SERVERS.map((s) => v(s, 'p99_us', 0)), ...rr('p99_us'), 'lower is better']);
    rows.push(['', 'server alloc B / delivery', ...FANOUT_SERVERS.map((s) => (s === 'sockeye' ? v(s, 'server_alloc_bytes_per_delivery', 3) : 'n/a')), '', '', 'goal 0 (steady state)']);
  }
  const w = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
  for (const row of rows) console.log(row.map((cell, c) => (c >= 2 && c < 2 + FANOUT_SERVERS.length + 2 ? String(cell).padStart(w[c]) : String(cell).padEnd(w[c]))).join('  ').trimEnd());
  console.log('details (medians): client cpu % while saturating; latency samples; saturated p50/p99 (queueing included)');
  for (const [id, x] of Object.entries(fanout)) {
    for (const s of FANOUT_SERVERS) {
      const v = x.servers[s];
      if (!v) continue;
      console.log(`  ${id} ${s}: client ${fmt(v.client_cpu_pct, 0)} % cpu, ${fmt(v.latency_samples, 0)} latency samples at ${fmt(v.rate, 0)} msg/s (server ${fmt(v.rate_server_cpu_pct, 0)} % cpu), ` +
        `saturated p50 ${fmt(v.saturated_p50_us, 0)} us p99 ${fmt(v.saturated_p99_us, 0)} us, rss ${fmt(v.server_rss_kb, 0)} KiB` +
        `${s === 'sockeye' ? `, gen0 GCs ${fmt(v.server_gc_gen0, 0)}` : ''}, errors ${v.errors}${v.results < v.runs ? ` (${v.runs - v.results} no result)` : ''}${v.crashed ? ' CRASHED' : ''}` +
        `${v.first_error ? `; first error: ${v.first_error}` : ''}`);
      if (v.client_cpu_pct >= 90) console.log(`  ${id} ${s}: load generator at ${fmt(v.client_cpu_pct, 0)} % CPU: it may be the limit here, not the server`);
    }
  }
}

// Scale-out (j): three nodes on one redis-server next to one node, for Sockeye and Socket.IO (+ its Redis adapter).
// The warm-up runs (scenario j-warmup) are not summarised. Goal: three Sockeye nodes >= 2x three Socket.IO nodes.
const SCALEOUT_SERVERS = ['sockeye', 'sockeye-redis', 'socketio', 'socketio-redis'];
const SCALEOUT_GOAL = 2;
{
  const sat = runs.filter((r) => r.scenario === 'j');
  const lat = runs.filter((r) => r.scenario === 'j-latency');
  if (sat.length || lat.length) {
    const servers = {};
    for (const server of SCALEOUT_SERVERS) {
      const v = fanoutServer(sat, lat, server);
      if (v) servers[server] = v;
    }
    const get = (s, k) => servers[s]?.[k] ?? null;
    const div = (a, b) => (a && b ? Number((a / b).toFixed(3)) : null);
    const sub = (a, b) => (a !== null && b !== null ? Math.round(a - b) : null);
    const subscribers = [...sat, ...lat].find((r) => r.result)?.result.subscribers ?? null;
    const ratio = div(get('sockeye-redis', 'deliveries_per_s'), get('socketio-redis', 'deliveries_per_s'));
    summary.j = {
      title: `(j) 3 nodes on Redis, ${fmt(subscribers, 0)} subscribers`,
      subscribers,
      servers,
      ratios: {
        'deliveries_per_s sockeye-redis/socketio-redis': ratio,
        'deliveries_per_server_cpu_s sockeye-redis/socketio-redis': div(get('sockeye-redis', 'deliveries_per_server_cpu_s'), get('socketio-redis', 'deliveries_per_server_cpu_s')),
        'deliveries_per_s sockeye-redis/sockeye': div(get('sockeye-redis', 'deliveries_per_s'), get('sockeye', 'deliveries_per_s')),
        'deliveries_per_s socketio-redis/socketio': div(get('socketio-redis', 'deliveries_per_s'), get('socketio', 'deliveries_per_s')),
      },
      added_latency_us: {
        sockeye: { p50: sub(get('sockeye-redis', 'p50_us'), get('sockeye', 'p50_us')), p99: sub(get('sockeye-redis', 'p99_us'), get('sockeye', 'p99_us')) },
        socketio: { p50: sub(get('socketio-redis', 'p50_us'), get('socketio', 'p50_us')), p99: sub(get('socketio-redis', 'p99_us'), get('socketio', 'p99_us')) },
      },
      goal: { text: `deliveries/s sockeye-redis/socketio-redis >= ${SCALEOUT_GOAL}`, value: ratio, met: ratio === null ? null : ratio >= SCALEOUT_GOAL },
    };
    const x = summary.j;
    const fm = meta.fanout ?? {};
    console.log('');
    console.log(`scale-out (j): 1 publisher on node 1, ${fmt(subscribers, 0)} subscribers round-robin over 3 nodes on one redis-server (X-redis), ` +
      `next to X as one node without Redis; ${fm.size ?? 64} B text, saturated with ${fm.window ?? '?'} in flight; latency at ${fmt(fm.j_rate, 0)} msg/s. ` +
      'cpu = the nodes and redis-server together.');
    const rows = [['metric', ...SCALEOUT_SERVERS, 'sockeye-redis/socketio-redis']];
    const v = (s, k, d) => fmt(servers[s]?.[k], d);
    rows.push(['deliveries/s', ...SCALEOUT_SERVERS.map((s) => v(s, 'deliveries_per_s', 0)), `${fmt(ratio, 2)}  (${x.goal.met === null ? x.goal.text : `${x.goal.text}: ${x.goal.met ? 'met' : 'missed'}`})`]);
    rows.push(['server cpu %', ...SCALEOUT_SERVERS.map((s) => v(s, 'server_cpu_pct', 0)), '']);
    rows.push(['server cpu-s / M deliveries', ...SCALEOUT_SERVERS.map((s) => v(s, 'server_cpu_s_per_m_deliveries', 3)), '']);
    rows.push(['deliveries / server cpu-s', ...SCALEOUT_SERVERS.map((s) => v(s, 'deliveries_per_server_cpu_s', 0)), fmt(x.ratios['deliveries_per_server_cpu_s sockeye-redis/socketio-redis'], 2)]);
    rows.push([`p50 us at ${fmt(fm.j_rate, 0)} msg/s`, ...SCALEOUT_SERVERS.map((s) => v(s, 'p50_us', 0)), '']);
    rows.push([`p99 us at ${fmt(fm.j_rate, 0)} msg/s`, ...SCALEOUT_SERVERS.map((s) => v(s, 'p99_us', 0)), '']);
    const w = rows[0].map((_, c) => Math.max(...rows.map((row) => String(row[c]).length)));
    for (const row of rows) console.log(row.map((cell, c) => (c >= 1 && c <= SCALEOUT_SERVERS.length ? String(cell).padStart(w[c]) : String(cell).padEnd(w[c]))).join('  ').trimEnd());
    const a = x.added_latency_us;
    console.log(`  Redis adds (3 nodes minus 1 node, publish to last delivery): Sockeye p50 ${fmt(a.sockeye.p50, 0)} us, p99 ${fmt(a.sockeye.p99, 0)} us; ` +
      `Socket.IO p50 ${fmt(a.socketio.p50, 0)} us, p99 ${fmt(a.socketio.p99, 0)} us`);
    console.log(`  3 nodes / 1 node deliveries/s: Sockeye ${fmt(x.ratios['deliveries_per_s sockeye-redis/sockeye'], 2)}, Socket.IO ${fmt(x.ratios['deliveries_per_s socketio-redis/socketio'], 2)}`);
    for (const s of SCALEOUT_SERVERS) {
      const d = servers[s];
      if (!d) continue;
      console.log(`  j ${s}: client ${fmt(d.client_cpu_pct, 0)} % cpu, saturated p50 ${fmt(d.saturated_p50_us, 0)} us p99 ${fmt(d.saturated_p99_us, 0)} us, ` +
        `rss ${fmt(d.server_rss_kb, 0)} KiB, errors ${d.errors}${d.results < d.runs ? ` (${d.runs - d.results} no result)` : ''}${d.crashed ? ' CRASHED' : ''}` +
        `${d.first_error ? `; first error: ${d.first_error}` : ''}`);
    }
  }
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

if (meta.fanout_generator_check && meta.fanout_generator_check !== 'skipped') console.log(`fan-out generator self-check (bench/check-fanout-generator.sh): ${meta.fanout_generator_check}`);
if (meta.fanout_generator_check === 'failed') {
  console.log('FAILED: bench/check-fanout-generator.sh (the fan-out load generator miscounts or mishandles pings)');
  process.exit(1);
}
// The allocation hook of serve --broadcast (SOCKEYE_REPORT_ALLOCATIONS) must have been read in every Sockeye fan-out run.
const allocMissing = runs.filter((r) => ['h', 'i'].includes(r.scenario) && r.server === 'sockeye' && r.result && r.result.server_alloc_bytes_per_delivery == null);
if (smoke && allocMissing.length) {
  console.log(`FAILED: ${allocMissing.length} Sockeye fan-out run(s) without the server's allocation figure (SOCKEYE_REPORT_ALLOCATIONS)`);
  process.exit(1);
}
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
