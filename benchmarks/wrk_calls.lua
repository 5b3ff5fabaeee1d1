-- wrk script: POST the events of whole calls with the shared secret.
-- Usage: wrk -t1 -c16 -d5s -s wrk_calls.lua URL -- EVENTS_FILE SECRET TAG SLOTS
-- EVENTS_FILE holds one event per line with {SID} where the session id goes.
-- SLOTS calls are played side by side, round robin: request k carries the
-- next event of call k mod SLOTS, so one call's events go out in order and,
-- with SLOTS well above the number of connections, one at a time, as the
-- AI Flow service sends them. done() prints one JSON line with the figures.

local next_thread = 1

function setup(thread)
  thread:set("thread_no", next_thread)
  next_thread = next_thread + 1
end

local templates = {}
local headers = {}
local counter = 0
local tag = "x"
local slots = 64

function init(args)
  for line in io.lines(args[1]) do
    templates[#templates + 1] = line
  end
  headers["Content-Type"] = "application/json"
  headers["X-API-TOKEN"] = args[2]
  tag = args[3] or "x"
  slots = tonumber(args[4]) or 64
end

function request()
  local n = #templates
  local slot = counter % slots
  local round = math.floor(counter / slots)
  local index = round % n + 1
  local call = math.floor(round / n) * slots + slot
  counter = counter + 1
  local sid = string.format("wrk-%s-%d-%d", tag, thread_no, call)
  local body = string.gsub(templates[index], "{SID}", sid)
  return wrk.format("POST", "/webhook", headers, body)
end

function done(summary, latency, requests)
  io.write(string.format(
    '{"requests":%d,"duration_us":%d,"bytes":%d,"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"mean_us":%.1f,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"status_errors":%d,"timeouts":%d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.status,
    summary.errors.timeout))
end
