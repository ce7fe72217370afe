-- wrk script: POST /api/predict with one M5-like event (the write-up's id and
-- date fields), or the body in the file named by $BENCH_BODY.
--   wrk -t2 -c64 -d10s -s bench/wrk/predict.lua http://127.0.0.1:PORT/api/predict
local body = '{"features": {"id": "HOBBIES_1_001_CA_1", "date": "2016-01-04"}}'
local path = os.getenv("BENCH_BODY")
if path and path ~= "" then
  local f = assert(io.open(path, "rb"))
  body = f:read("*a"):gsub("%s+$", "")
  f:close()
end
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
