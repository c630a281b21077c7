-- wrk script for bench/intake.py: file IBAN-change requests with fresh keys and tickets.
-- BENCH_KEY (API key) and BENCH_IBANS (a file of valid IBANs, one a line) come from intake.py.
local key = os.getenv("BENCH_KEY")
local ibans = {}
for line in io.lines(os.getenv("BENCH_IBANS")) do ibans[#ibans + 1] = line end
local counter = 0
-- Each wrk thread gets its own tag (a global set by setup); letters keep digit runs short,
-- since a long run of digits could pass for a card number. Each thread also gets its own
-- IBANs (every THREADS-th line from its own first one): a new IBAN for every filing in a run,
-- as bank-detail changes mostly are. intake.py measures an IBAN already on file apart.
local threads = 0
local THREADS = tonumber(os.getenv("BENCH_THREADS") or "2")
setup = function(thread)
  threads = threads + 1
  -- BENCH_RUN: wrk's math.random is not seeded, so a second run would replay the first's keys
  thread:set("thread_tag", "t" .. threads .. "r" .. (os.getenv("BENCH_RUN") or tostring(math.random(1, 1e9))) .. "n")
  thread:set("thread_index", threads - 1)
  thread:set("run_hex", os.getenv("BENCH_RUN_HEX") or string.format("%08x", math.random(0, 2^31)))
end

request = function()
  counter = counter + 1
  local id = thread_tag .. counter
  local body = '{"kind":"iban_change","ticket":{"system":"zendesk","id":"' .. id .. '"},'
    .. '"customer":{"zuora_account_id":"A00000101","backoffice_id":"shop-101"},'
    .. '"requester":{"name":"Bench"},"contact_reasons":["Billing > Bank details"],'
    .. '"payload":{"iban":"' .. ibans[((counter * THREADS + thread_index) % #ibans) + 1]
    .. '","account_holder":"Atelier",'
    .. '"account_holder_email":"compta@atelier.example",'
    .. '"targets":["zuora_collection","stripe_customer_debit"]}}'
  return wrk.format("POST", "/v1/change-requests", {
    ["Authorization"] = "Bearer " .. key,
    -- a UUID per filing, as the API asks of support tools (unique to the run, thread and count)
    ["Idempotency-Key"] = string.format("%s-%04x-4000-8000-%012x", run_hex, thread_index, counter),
    ["Content-Type"] = "application/json",
  }, body)
end
