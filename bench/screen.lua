-- wrk script for bench/fraud_screening.py: screen a rotating mix of IPs, card fingerprints and
-- emails, one in ten blocked. BENCH_KEY (API key) and BENCH_BODIES (one JSON body a line).
local key = os.getenv("BENCH_KEY")
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do bodies[#bodies + 1] = line end
local counter = 0
local headers = {["Authorization"] = "Bearer " .. key, ["Content-Type"] = "application/json"}

request = function()
  counter = counter + 1
  return wrk.format("POST", "/v1/fraud/screen", headers, bodies[(counter % #bodies) + 1])
end
