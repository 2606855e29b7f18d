-- wrk script for bench/run. With WRK_BODY set, every request is a form POST
-- with that body (the session's CSRF token included by bench/run).
local body = os.getenv("WRK_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

-- With WRK_CHECKIN=N, each request searches for another of the seeded
-- people (an even number from 1000 to N - 2, the first unit's): the reception
-- check-in round trip, search and log in one POST. Four-digit numbers make
-- the typed words match that one person (a shorter one is the start of ten
-- others' names, and Enter then shows the matches instead of logging). The
-- people are taken in turn, the threads interleaved, so no one is checked in
-- twice until all have been.
-- WRK_SESSIONS lists "cookie-value:csrf-token" pairs, comma-separated: each
-- request goes as one of those signed-in desks, as at a centre where every
-- desk has its own. With WRK_PACE_MS=n each connection waits n ms after an
-- answer before its next request (a paced desk, not a saturating one).
local checkin = tonumber(os.getenv("WRK_CHECKIN") or "")
local pace = tonumber(os.getenv("WRK_PACE_MS") or "")
local sessions = {}
for pair in string.gmatch(os.getenv("WRK_SESSIONS") or "", "[^,]+") do
  local cookie, csrf = string.match(pair, "([^:]+):(.+)")
  table.insert(sessions, { cookie = cookie, csrf = csrf })
end
local threads = 0
setup = function(thread)
  thread:set("thread_index", threads)
  threads = threads + 1
end
if checkin then
  local sent = 0
  init = function(args)
    math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  end
  request = function()
    local turn = thread_index + tonumber(os.getenv("WRK_THREADS") or "1") * sent
    sent = sent + 1
    local g = 1000 + 2 * (turn % math.floor((checkin - 1002) / 2 + 1))
    local s = sessions[math.random(1, #sessions)]
    local headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "lotsen_session=" .. s.cookie }
    local form = string.format("csrf_token=%s&%s&q=person%d+efternamn%d", s.csrf, body, g, g % 997)
    return wrk.format("POST", nil, headers, form)
  end
end
if pace then
  delay = function()
    return pace
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
