-- wrk script for bench/order_load.py (run it through that script, not by hand).
--
--   wrk ... -s bench/wrk/load.lua URL -- ping
--   wrk ... -s bench/wrk/load.lua URL -- orders TOKEN PATH BODIES_FILE RUN_ID
--
-- "orders": BODIES_FILE holds one JSON order body per line, each for a different
-- household; thread t of n sends lines t+1, t+1+n, t+1+2n, ... so no household is
-- ordered for twice, each with its own Idempotency-Key. Every response outside
-- 2xx is counted (and the first one kept) so the run can report errors exactly.
-- done() prints one JSON line, prefixed RESULT, that order_load.py parses.

local threads = {}
local thread_count = 0

function setup(thread)
   thread:set("id", thread_count)
   thread_count = thread_count + 1
   table.insert(threads, thread)
end

function init(args)
   mode = args[1]
   non2xx = 0
   created = 0
   wrapped = 0
   first_error = ""
   if mode == "orders" then
      token = args[2]
      path = args[3]
      run_id = args[5]
      bodies = {}
      for line in io.lines(args[4]) do
         bodies[#bodies + 1] = line
      end
      step = tonumber(args[6])
      position = id + 1
      headers = {
         ["Authorization"] = "Bearer " .. token,
         ["Content-Type"] = "application/json",
      }
   end
end

function request()
   if mode ~= "orders" then
      return wrk.format("GET", "/api/ping")
   end
   local index = position
   position = position + step
   if index > #bodies then
      -- Ran out of households: start over (these become edits of existing orders).
      wrapped = wrapped + 1
      index = (index - 1) % #bodies + 1
   end
   headers["Idempotency-Key"] = run_id .. "-" .. id .. "-" .. position
   return wrk.format("POST", path, headers, bodies[index])
end

function response(status, headers, body)
   if status == 201 then
      created = created + 1
   end
   if status < 200 or status > 299 then
      non2xx = non2xx + 1
      if first_error == "" then
         first_error = status .. " " .. string.sub(body or "", 1, 300)
      end
   end
end

local function json_string(s)
   s = string.gsub(s, '[%c"\\]', function(c)
      return string.format("\\u%04x", string.byte(c))
   end)
   return '"' .. s .. '"'
end

function done(summary, latency, requests)
   local non2xx_total, created_total, wrapped_total, first = 0, 0, 0, ""
   for _, thread in ipairs(threads) do
      non2xx_total = non2xx_total + thread:get("non2xx")
      created_total = created_total + thread:get("created")
      wrapped_total = wrapped_total + thread:get("wrapped")
      if first == "" then
         first = thread:get("first_error")
      end
   end
   local e = summary.errors
   io.write(string.format(
      'RESULT {"requests": %d, "duration_us": %d, "non2xx": %d, "created": %d, ' ..
      '"wrapped": %d, "socket_errors": %d, "timeouts": %d, "p50_us": %d, "p95_us": %d, ' ..
      '"p99_us": %d, "max_us": %d, "mean_us": %.1f, "first_error": %s}\n',
      summary.requests, summary.duration, non2xx_total, created_total, wrapped_total,
      e.connect + e.read + e.write, e.timeout,
      latency:percentile(50), latency:percentile(95), latency:percentile(99),
      latency.max, latency.mean, json_string(first)))
end
