-- wrk_calls.lua at a fixed pace: each connection waits DELAY_MS between
-- requests, so N connections offer about N * 1000 / DELAY_MS requests per
-- second (while answers are much faster than the delay). Latency measured
-- below saturation shows what one request costs, not how long the queue is.
-- Usage: wrk ... -s wrk_calls_paced.lua URL -- EVENTS_FILE SECRET TAG SLOTS DELAY_MS
local here = debug.getinfo(1, "S").source:sub(2):match("(.*/)") or "./"
dofile(here .. "wrk_calls.lua")

local base_init = init
local pause = 0

function init(args)
  base_init(args)
  pause = tonumber(args[5])
end

function delay()
  return pause
end
