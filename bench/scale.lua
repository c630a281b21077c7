-- wrk script for bench/scale.py: runs another bench script (BENCH_SCRIPT: intake.lua or
-- screen.lua) with each wrk thread sent to one of the gateway's API processes (BENCH_PORTS,
-- comma-separated, on 127.0.0.1); prints p50 and p95 (wrk's --latency has no p95) and the
-- answers that were not 2xx, by status, with the first one's body.
-- BENCH_SEED: the scripts draw their Idempotency-Key tags from math.random, the same sequence
-- in every run of wrk unless seeded, and the phases share one database.
math.randomseed(tonumber(os.getenv("BENCH_SEED")))
dofile(os.getenv("BENCH_SCRIPT"))

local ports = {}
for port in string.gmatch(os.getenv("BENCH_PORTS"), "%d+") do ports[#ports + 1] = port end
local inner_setup = setup
local threads = {}

setup = function(thread)
  if inner_setup then inner_setup(thread) end
  threads[#threads + 1] = thread
  thread.addr = wrk.lookup("127.0.0.1", ports[(#threads - 1) % #ports + 1])[1]
end

-- per thread (each has its own Lua state); read back by done() through thread:get
failures = {}
first_failure = nil

response = function(status, headers, body)
  if status >= 300 then
    failures[status] = (failures[status] or 0) + 1
    first_failure = first_failure or (status .. " " .. string.sub(body or "", 1, 300))
  end
end

done = function(summary, latency, requests)
  io.write(string.format("scale: p50_us=%d p95_us=%d\n",
    latency:percentile(50), latency:percentile(95)))
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("failures")) do
      io.write(string.format("scale: status %d %d\n", status, count))
    end
    local first = thread:get("first_failure")
    if first then io.write("scale: first failure " .. first .. "\n") end
  end
end
