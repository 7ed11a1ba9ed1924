-- wrk script of bench/loadgen.py. One request: the method and body come from the
-- environment (BENCH_METHOD, BENCH_BODY), headers from -H. A mix: BENCH_REQUESTS names a
-- file of lines "METHOD /path?query", sent in turn (BENCH_BODY is the body of each POST).
-- At the end one BENCH_RESULT JSON line.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
if body ~= nil and body ~= "" then
  wrk.body = body
end

local requests = nil
local count = 0
local next_index = 1
local listing = os.getenv("BENCH_REQUESTS")
if listing ~= nil and listing ~= "" then
  requests = {}
  for line in io.lines(listing) do
    local method, path = line:match("^(%u+) (.+)$")
    if method ~= nil then
      local payload = nil
      if method == "POST" then payload = body end
      count = count + 1
      requests[count] = wrk.format(method, path, nil, payload)
    end
  end
end

if requests ~= nil then
  request = function()
    local r = requests[next_index]
    next_index = next_index + 1
    if next_index > count then next_index = 1 end
    return r
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"p50_us":%.1f,"p99_us":%.1f,"max_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
