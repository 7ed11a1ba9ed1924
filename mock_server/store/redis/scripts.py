"""The Lua scripts that make each shared change all or nothing (Redis runs a script
atomically: no other client's command runs in between).

Every change is also appended to the change log (a Redis stream) with a sequence number
from one counter, so each process applies the changes in one order and notices a gap; a
script that logged a change answers [seq, log id], so the process that made the change
applies it without reading it back. Each script names, above it, the KEYS it takes in
order (`Keys.changes`, `Keys.commit` and `Keys.round` in store/redis/link.py list them).
"""

from __future__ import annotations

__all__ = [
    "SYNC",
    "ROUND",
    "JOURNAL_CLEAR",
    "COMMIT",
    "SEED",
    "DEVICES",
    "RESET",
    "CONTROL",
]

# Appends an event to the log with its sequence number beside it (field s; the event,
# field e, is never rewritten in Lua: it may be a megabyte).
_LOG = """
local function log(event)
  local seq = redis.call('INCR', KEYS[6])
  local id = redis.call('XADD', KEYS[5], 'MAXLEN', '~', ARGV[1], '*', 'e', event, 's', seq)
  return {seq, id}
end
"""

# KEYS: seq control-version log. ARGV: last-id count. What a process needs to catch up,
# in one round trip: the log's counter, the control state's version, and the changes
# after the last one it applied.
SYNC = """
local seq = redis.call('GET', KEYS[1]) or '0'
local control = redis.call('GET', KEYS[2]) or ''
return {seq, control, redis.call('XRANGE', KEYS[3], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])}
"""

# A create, judged alone: -1 when the client's externalReference is taken (C6: the
# first create keeps it), -2 when the id is (never, with random ids), else it is stored
# and logged. A stored value is "revision|event": the downlink's last "put" event, which
# holds it whole.
_CREATE = """
local function create(id, ref, event)
  if ref ~= '' and redis.call('HEXISTS', KEYS[4], ref) == 1 then return -1 end
  if redis.call('HEXISTS', KEYS[1], id) == 1 then return -2 end
  redis.call('HSET', KEYS[1], id, '1|' .. event)
  if ref ~= '' then redis.call('HSET', KEYS[4], ref, id) end
  return log(event)
end
"""

# The check-and-write of one change: 0 when the downlink's revision moved on (another
# change was committed first) or it is gone (a reset).
_COMMIT = """
local function commit(id, expected, event)
  local old = redis.call('HGET', KEYS[1], id)
  if not old then return 0 end
  local rev = tonumber(string.match(old, '^(%d+)|'))
  if rev ~= tonumber(expected) then return 0 end
  redis.call('HSET', KEYS[1], id, (rev + 1) .. '|' .. event)
  return log(event)
end
"""

# The mock's clock as every process reads it (timeline/clock.py `Clock.now`), from the
# control state's clock and Redis's own time.
_NOW = """
local function mock_now(state)
  local clock = cjson.decode(state)
  if clock.mode == 'manual' then return tonumber(clock.anchor) end
  local t = redis.call('TIME')
  local wall = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  return tonumber(clock.anchor) + math.floor((wall - tonumber(clock.anchorWall)) * tonumber(clock.speed))
end
"""

# KEYS: downlinks control control-version refs log seq. ARGV: maxlen id
# expected-revision control-version next-due event. A cancel or an M4 move: refused (0)
# when the control state is not the version it was worked out under (the clock was set),
# or when the downlink's next timed move (next-due, '' for none) has fallen due by the
# shared clock: another process may have shown that move already, which this change,
# worked out before it, would erase.
COMMIT = (
    _LOG
    + _COMMIT
    + _NOW
    + """
if (redis.call('GET', KEYS[3]) or '') ~= ARGV[4] then return 0 end
if ARGV[5] ~= '' then
  local state = redis.call('HGET', KEYS[2], 'clock')
  if state and mock_now(state) >= tonumber(ARGV[5]) then return 0 end
end
return commit(ARGV[2], ARGV[3], ARGV[6])
"""
)

# KEYS: downlinks - - refs log seq. ARGV: maxlen event count, then (id refkey value)
# each. M3: all or nothing; -1 when an id is taken, -2 when a reference is.
SEED = (
    _LOG
    + """
local n = tonumber(ARGV[3])
for i = 0, n - 1 do
  local id, ref = ARGV[4 + 3 * i], ARGV[5 + 3 * i]
  if redis.call('HEXISTS', KEYS[1], id) == 1 then return -1 end
  if ref ~= '' and redis.call('HEXISTS', KEYS[4], ref) == 1 then return -2 end
end
for i = 0, n - 1 do
  local id, ref = ARGV[4 + 3 * i], ARGV[5 + 3 * i]
  redis.call('HSET', KEYS[1], id, ARGV[6 + 3 * i])
  if ref ~= '' then redis.call('HSET', KEYS[4], ref, id) end
end
return log(ARGV[2])
"""
)

# KEYS: dev - - - log seq. ARGV: maxlen event count, then (networkId tags) each.
DEVICES = (
    _LOG
    + """
local n = tonumber(ARGV[3])
for i = 0, n - 1 do
  redis.call('HSET', KEYS[1], ARGV[4 + 2 * i], ARGV[5 + 2 * i])
end
return log(ARGV[2])
"""
)

# KEYS: downlinks - - refs log seq devices ordinal control control-version journal
# journal-bytes faults-applied journal-costs journal-cleared journal-seq.
# ARGV: maxlen event clock scenario. M2: everything emptied, the clock and scenario set
# back; the log keeps counting (a process that missed the reset sees its event).
RESET = (
    _LOG
    + """
redis.call('UNLINK', KEYS[1], KEYS[4], KEYS[7], KEYS[8], KEYS[11], KEYS[12], KEYS[13],
  KEYS[14])
redis.call('SET', KEYS[15], redis.call('GET', KEYS[16]) or '0')
redis.call('HSET', KEYS[9], 'clock', ARGV[3], 'scenario', ARGV[4], 'faults', '[]')
redis.call('INCR', KEYS[10])
return log(ARGV[2])
"""
)

# KEYS: journal journal-costs journal-bytes journal-cleared journal-seq. M7's clear: the
# entries go, and the seq they had reached is kept, so "evicted" counts from there.
JOURNAL_CLEAR = """
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
redis.call('SET', KEYS[4], redis.call('GET', KEYS[5]) or '0')
return 1
"""

# KEYS: ctl ctlv. ARGV: expected ctlv (or '' for any), then field value pairs.
# M5, M6, M8: 0 when another process changed the control state first.
CONTROL = """
local v = tonumber(redis.call('GET', KEYS[2]) or '0')
if ARGV[1] ~= '' and v ~= tonumber(ARGV[1]) then return 0 end
for i = 2, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return redis.call('INCR', KEYS[2])
"""

# M7: append n (cost entry) pairs of ARGV from `first` to the journal (keys jk, costs
# ck, bytes bk, seq sk), each with one RPUSH; the seq counts them (an entry's seq is
# its place: the last one's is the counter). The oldest go while over the count or the
# bytes, found from their costs alone (a list of small numbers beside the entries) and
# dropped with one LTRIM, never read into Lua.
_JOURNAL = """
local function journal(jk, ck, bk, sk, size, total, first, n)
  local entries, costs, added = {}, {}, 0
  for i = first, first + 2 * (n - 1), 2 do
    costs[#costs + 1] = ARGV[i]
    entries[#entries + 1] = ARGV[i + 1]
    added = added + tonumber(ARGV[i])
  end
  redis.call('RPUSH', jk, unpack(entries))
  local len = redis.call('RPUSH', ck, unpack(costs))
  redis.call('INCRBY', sk, n)
  local bytes = redis.call('INCRBY', bk, added)
  local drop = 0
  if len > size then
    for _, cost in ipairs(redis.call('LPOP', ck, len - size)) do
      bytes = bytes - tonumber(cost)
    end
    drop = len - size
  end
  while len - drop > 1 and bytes > total do
    bytes = bytes - tonumber(redis.call('LPOP', ck))
    drop = drop + 1
  end
  if drop > 0 then
    redis.call('LTRIM', jk, drop, -1)
    redis.call('SET', bk, bytes)
  end
end
"""

# KEYS: downlinks - - refs log seq control-version journal journal-costs journal-bytes
# journal-seq. ARGV: maxlen last-id count journal-size journal-bytes, then n and n
# (cost entry) pairs for the journal, and n and n (id refkey event) creates.
# A process's round in one call: what `SYNC` reads, read first (so the changes read are
# all older than this round's own), then the requests' journal entries and creates, each
# create judged alone. Answers [seq, control version, changes, what each create answered].
ROUND = (
    _LOG
    + _CREATE
    + _JOURNAL
    + """
local seq = redis.call('GET', KEYS[6]) or '0'
local control = redis.call('GET', KEYS[7]) or ''
local read = redis.call('XRANGE', KEYS[5], '(' .. ARGV[2], '+', 'COUNT', ARGV[3])
local i = 6
local n = tonumber(ARGV[i])
if n > 0 then
  journal(KEYS[8], KEYS[9], KEYS[10], KEYS[11], tonumber(ARGV[4]), tonumber(ARGV[5]), i + 1, n)
end
i = i + 1 + 2 * n
n = tonumber(ARGV[i])
local created = {}
for k = 0, n - 1 do
  created[#created + 1] = create(ARGV[i + 1 + 3 * k], ARGV[i + 2 + 3 * k], ARGV[i + 3 + 3 * k])
end
return {seq, control, read, created}
"""
)
