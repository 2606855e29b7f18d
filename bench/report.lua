-- wrk script for bench/run. With WRK_BODY set, every request is a form POST
-- with that body (the session's CSRF token included by bench/run).
local body = os.getenv("WRK_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

-- With WRK_CHECKIN=N, each request searches for another of the seeded
-- people (an even number up to N, the first unit's): the reception check-in
-- round trip, search and log in one POST. WRK_SESSIONS lists
-- "cookie-value:csrf-token" pairs, comma-separated: each request goes as one
-- of those signed-in desks, as at a centre where every desk has its own.
local checkin = tonumber(os.getenv("WRK_CHECKIN") or "")
local sessions = {}
for pair in string.gmatch(os.getenv("WRK_SESSIONS") or "", "[^,]+") do
  local cookie, csrf = string.match(pair, "([^:]+):(.+)")
  table.insert(sessions, { cookie = cookie, csrf = csrf })
end
if checkin then
  init = function(args)
    math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  end
  request = function()
    local g = 2 * math.random(1, math.floor(checkin / 2))
    local s = sessions[math.random(1, #sessions)]
    local headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "lotsen_session=" .. s.cookie }
    local form = string.format("csrf_token=%s&%s&q=person%d+efternamn%d", s.csrf, body, g, g % 997)
    return wrk.format("POST", nil, headers, form)
  end
end

-- wrk prints this one line at the end of a run; bench/run reads it.
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %d %d %d\n",
    summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status, errors))
end
