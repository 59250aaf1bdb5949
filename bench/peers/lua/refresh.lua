-- Refresh in a chain: every response carries a new refresh token, which replaces the one
-- used. The queue starts with BENCH_TOKENS (one token a line, more than the connections),
-- so no token is ever sent twice.
--   BENCH_REFRESH_PATH  where to POST
--   BENCH_REFRESH_MODE  "bearer" (Authorization: Bearer <token>) or "json" ({"refresh": ...})
local path = os.getenv("BENCH_REFRESH_PATH")
local mode = os.getenv("BENCH_REFRESH_MODE")
local queue = {}
local first = 1 -- index of the next token to send
local after = 1 -- index where the next new token goes (no holes: # is unreliable here)
local last = nil

for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if #line > 0 then
    queue[after] = line
    after = after + 1
  end
end

request = function()
  local token = queue[first]
  if token == nil then
    token = last  -- only after a failed refresh; the repeat fails too and is counted
  else
    queue[first] = nil
    first = first + 1
    last = token
  end
  if mode == "json" then
    return wrk.format("POST", path, {["Content-Type"] = "application/json"},
      '{"refresh":"' .. token .. '"}')
  end
  return wrk.format("POST", path, {["Authorization"] = "Bearer " .. token})
end

response = function(status, headers, body)
  local token = nil
  for name, value in pairs(headers) do
    if string.lower(name) == "st-refresh-token" then token = value end
  end
  if token == nil then
    token = string.match(body, '"refresh"%s*:%s*"([^"]+)"')
  end
  if token ~= nil and #token > 0 and status == 200 then
    queue[after] = token
    after = after + 1
  end
end
