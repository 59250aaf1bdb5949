-- POST /login for users u0 .. u(BENCH_USERS-1) in turn: one new session per request.
local users = tonumber(os.getenv("BENCH_USERS") or "1000")
local counter = 0

request = function()
  counter = counter + 1
  return wrk.format("POST", "/login?user=u" .. (counter % users))
end
