// The WebSocket closed-loop client of benchmarks/ws_closed_client.py, in Node
// (the `ws` package): the same calls, messages and figures, at a fraction of
// the Python client's CPU per event, so that the client does not set the pace.
//
//   node closed_client.js URL --calls 500 --events 60 --secret S [--tag T]
//
// Every call opens its connection first; when all are open, each sends
// --events user_speak events in turn, waiting for the answer to one before it
// sends the next, then session_end. Prints one JSON object (the fields of
// ws_closed_client.py).
const WebSocket = require('ws');

const ANSWER_TIMEOUT_MS = 10000;

function parseArgs(argv) {
  const args = { url: argv[0], calls: 500, events: 60, secret: '', tag: 'x' };
  for (let i = 1; i < argv.length; i += 2) {
    const name = argv[i].replace(/^--/, '');
    args[name] = ['calls', 'events'].includes(name) ? Number(argv[i + 1]) : argv[i + 1];
  }
  return args;
}

function message(type, sessionId, fields) {
  const session = {
    id: sessionId, account_id: 'account-bench', phone_number: '+4930123456',
    direction: 'inbound', from_phone_number: '+4917099999', to_phone_number: '+4930123456',
  };
  return JSON.stringify({ type, ...fields, session });
}

function open(args) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(args.url, { headers: { 'X-API-TOKEN': args.secret }, perMessageDeflate: false });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function answer(ws) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no answer in time')), ANSWER_TIMEOUT_MS);
    const done = (error) => { clearTimeout(timer); ws.off('message', onMessage); ws.off('close', onClose); error ? reject(error) : resolve(); };
    const onMessage = () => done();
    const onClose = () => done(new Error('closed'));
    ws.on('message', onMessage);
    ws.on('close', onClose);
  });
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const latencies = [];
  const errors = {};
  const fail = (error) => { const key = `${error.name}: ${error.message}`.slice(0, 120); errors[key] = (errors[key] || 0) + 1; };
  const opened = await Promise.all(Array.from({ length: args.calls }, () => open(args).catch((error) => { fail(error); return null; })));
  const started = process.hrtime.bigint();
  await Promise.all(opened.map(async (ws, n) => {
    if (ws === null) return;
    const sessionId = `closed-${args.tag}-${n}`;
    try {
      for (let index = 0; index < args.events; index += 1) {
        const sent = process.hrtime.bigint();
        const answered = answer(ws);
        ws.send(message('user_speak', sessionId, { text: `question ${index} about my order` }));
        await answered;
        latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
      }
      ws.send(message('session_end', sessionId, {}));
      ws.close();
    } catch (error) {
      fail(error);
      ws.terminate();
    }
  }));
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  const pct = (q) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((q / 100) * latencies.length))] : null);
  console.log(JSON.stringify({
    calls: args.calls, events_per_call: args.events, answered: latencies.length,
    dropped: Object.values(errors).reduce((a, b) => a + b, 0), wall_s: wall,
    events_per_s: latencies.length / wall, p50_ms: pct(50), p99_ms: pct(99), errors,
  }));
}

main();
