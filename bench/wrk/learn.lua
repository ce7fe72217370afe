-- wrk script: POST /api/learn with one M5-like event and its ground truth, or
-- the body in the file named by $BENCH_BODY. Each request is a durable learn.
--   wrk -t2 -c64 -d10s -s bench/wrk/learn.lua http://127.0.0.1:PORT/api/learn
local body = '{"features": {"id": "HOBBIES_1_001_CA_1", "date": "2016-01-04"}, "ground_truth": 3}'
local path = os.getenv("BENCH_BODY")
if path and path ~= "" then
  local f = assert(io.open(path, "rb"))
  body = f:read("*a"):gsub("%s+$", "")
  f:close()
end
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
