-- wrk script for bench/run. With WRK_BODY set, every request is a form POST
-- with that body (the session's CSRF token included by bench/run).
local body = os.getenv("WRK_BODY")
if body and body ~= "" then
  wrk.method = "POST"
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end

-- With WRK_CHECKIN=N, each request searches for another of the seeded
-- people, Person1001 to Person9999 (of N), in the unit of theirs (person g is
-- in the g % 2 + 1st of WRK_UNITS): the reception check-in round trip,
-- search and log in one POST. Four-digit numbers make the typed words match
-- that one person (a shorter one is the start of ten others' names, and
-- Enter then shows the matches instead of logging). The people are taken in
-- turn, the threads interleaved, so each request logs a new visit; a thread
-- stops when its share of the people has come.
-- WRK_SESSIONS lists "cookie-value:csrf-token" pairs, comma-separated: each
-- request goes as one of those signed-in desks, as at a centre where every
-- desk has its own. With WRK_PACE_MS=n each connection pauses before each
-- request for a random time, n ms on average (exponentially distributed, as
-- the pauses of desks working independently are).
local checkin = tonumber(os.getenv("WRK_CHECKIN") or "")
local pace = tonumber(os.getenv("WRK_PACE_MS") or "")
local thread_count = tonumber(os.getenv("WRK_THREADS") or "1")
local sessions = {}
for pair in string.gmatch(os.getenv("WRK_SESSIONS") or "", "[^,]+") do
  local cookie, csrf = string.match(pair, "([^:]+):(.+)")
  table.insert(sessions, { cookie = cookie, csrf = csrf })
end
local units = {}
for unit in string.gmatch(os.getenv("WRK_UNITS") or "", "[^,]+") do
  table.insert(units, unit)
end
local threads = {}
setup = function(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end
-- A monotonic clock in microseconds (wrk's Lua is LuaJIT, which can call C).
local ffi = require("ffi")
ffi.cdef [[
  typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
  int clock_gettime(int clock, bench_timespec *ts);
]]
local timespec = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, timespec) -- CLOCK_MONOTONIC
  return tonumber(timespec.tv_sec) * 1e6 + tonumber(timespec.tv_nsec) / 1e3
end
init = function(args)
  math.randomseed(os.time() + 7919 * thread_index + math.floor(os.clock() * 1e6))
end
if checkin then
  local first, last = 1001, math.min(checkin, 9999)
  local people = last - first + 1
  local sent, answered = 0, 0
  request = function()
    -- When this thread began and last heard back: a thread that stops early
    -- did its work in that time, not in wrk's whole duration.
    began_us = began_us or now_us()
    local turn = thread_index + thread_count * sent
    sent = sent + 1
    local g = first + turn % people
    local s = sessions[math.random(1, #sessions)]
    local headers = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Cookie"] = "lotsen_session=" .. s.cookie }
    local form = string.format("csrf_token=%s&unit_id=%s&q=person%d+efternamn%d", s.csrf, units[g % 2 + 1], g, g % 997)
    return wrk.format("POST", nil, headers, form)
  end
  response = function(status, headers, body)
    answered = answered + 1
    ended_us = now_us()
    -- This thread's share of the people: the turns below `people` that are its own.
    if answered >= math.floor((people - thread_index - 1) / thread_count) + 1 then
      wrk.thread:stop()
    end
  end
end
if pace then
  delay = function()
    return math.floor(-pace * math.log(1 - math.random()))
  end
end

-- wrk prints this one line at the end of a run; bench/run reads it.
done = function(summary, latency, requests)
  local seconds = summary.duration / 1e6
  if checkin then
    local began, ended
    for _, thread in ipairs(threads) do
      local b, e = thread:get("began_us"), thread:get("ended_us")
      if b and (not began or b < began) then began = b end
      if e and (not ended or e > ended) then ended = e end
    end
    if began and ended then seconds = math.min(seconds, (ended - began) / 1e6) end
  end
  local errors = summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout
  io.write(string.format("RESULT %.1f %.2f %.2f %.2f %d %d %d\n",
    summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    summary.requests, summary.errors.status, errors))
end
