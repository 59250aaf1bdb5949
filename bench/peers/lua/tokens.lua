-- GET the URL's path with "Authorization: Bearer <token>", a different token each request,
-- in turn through the file BENCH_TOKENS (one token a line). With more tokens than a server
-- remembers as verified, every request pays the full signature check.
local tokens = {}
local count = 0
for line in io.lines(os.getenv("BENCH_TOKENS")) do
  if #line > 0 then
    count = count + 1
    tokens[count] = line
  end
end
local next_index = 0

request = function()
  next_index = next_index % count + 1
  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. tokens[next_index]})
end
