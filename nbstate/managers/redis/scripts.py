"""The keys of a session in Redis and the Lua scripts that read and write them atomically.

Every key of token ``T`` carries the hash tag ``{T}`` (one slot in a Redis Cluster), and each is
readable with ``redis-cli``; values are JSON text (never pickle)::

    nbstate:{T}:states    hash  state path -> {"<var>": JSON value}  base and backend vars
    nbstate:{T}:versions  hash  state path -> the version at which that state was last written
    nbstate:{T}:meta      hash  rev (the session revision), version (bumped by every write of
                                states: a backend var changes no revision), fence (the last
                                fencing token handed out), history (bytes in the deltas list)
    nbstate:{T}:deltas    list  {"rev": n, "ops": [...]} (RFC 6902), oldest first, bounded by
                                bytes: the recent deltas, for replay on any process
    nbstate:{T}:answers   hash  "<client>/<id>" -> the answer frame that message got
    nbstate:{T}:answered  list  the keys of ``answers``, oldest first (bounded by count)
    nbstate:{T}:lock      string "<owner> <fence>", with an expiry (PX)
    nbstate:{T}:procs     set   the processes (owners) with clients of this session now

Each process (owner ``<pid>-<random>``) listens on one pub/sub channel,
``nbstate:owner:<owner>``: ``"<token> <delta JSON>"`` for each delta another process stored for
a session it has clients of (published by the Lua call that stored it, so in revision order),
and ``"release <token>"`` when another process asks it for a lock it keeps. The process that
made a delta is not sent it back. Every key expires after the session TTL, renewed by each
write.

The lock is fenced: taking it bumps ``meta.fence`` and the holder writes only while
``meta.fence`` is still its own, so a holder whose lock expired and was taken by another process
cannot overwrite what that process stored.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ACQUIRE", "COMMIT", "READ", "RELEASE", "RENEW", "UNLISTEN", "Keys"]


@dataclass(frozen=True)
class Keys:
    """The key names of one token."""

    token: str
    prefix: str = "nbstate"

    def _key(self, name: str) -> str:
        return f"{self.prefix}:{{{self.token}}}:{name}"

    @property
    def states(self) -> str:
        return self._key("states")

    @property
    def versions(self) -> str:
        return self._key("versions")

    @property
    def meta(self) -> str:
        return self._key("meta")

    @property
    def deltas(self) -> str:
        return self._key("deltas")

    @property
    def answers(self) -> str:
        return self._key("answers")

    @property
    def answered(self) -> str:
        return self._key("answered")

    @property
    def lock(self) -> str:
        return self._key("lock")

    @property
    def procs(self) -> str:
        return self._key("procs")


# KEYS: lock meta states versions answers
# ARGV: owner, lock expiry ms, cached version (-1: none), answer key ("" for none), ttl ms,
#       the lock value this process may still hold ("" for none), the owners' channel prefix,
#       token
# Returns {"answered", answer} | {"busy", pttl} | {"ok", fence, rev (-1: none stored), version,
#          path1, json1, ...} with the states written after the cached version (all if none).
# A lock held by another process gets a request to release it (if it only keeps it idle).
ACQUIRE = """
if ARGV[4] ~= '' then
  local answer = redis.call('HGET', KEYS[5], ARGV[4])
  if answer then return {'answered', answer} end
end
local held = redis.call('GET', KEYS[1])
local fence
if held and held == ARGV[6] then
  fence = tonumber(string.match(held, ' (%d+)$'))
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif held then
  redis.call('PUBLISH', ARGV[7] .. string.match(held, '^(%S+)'), 'release ' .. ARGV[8])
  return {'busy', redis.call('PTTL', KEYS[1])}
else
  fence = redis.call('HINCRBY', KEYS[2], 'fence', 1)
  redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. fence, 'PX', ARGV[2])
end
redis.call('PEXPIRE', KEYS[2], ARGV[5])
local meta = redis.call('HMGET', KEYS[2], 'rev', 'version')
local rev = tonumber(meta[1] or '-1')
local version = tonumber(meta[2] or '-1')
local cached = tonumber(ARGV[3])
local out = {'ok', fence, rev, version}
if version > cached then
  local revs = redis.call('HGETALL', KEYS[4])
  for i = 1, #revs, 2 do
    if cached < 0 or tonumber(revs[i + 1]) > cached then
      out[#out + 1] = revs[i]
      out[#out + 1] = redis.call('HGET', KEYS[3], revs[i]) or 'null'
    end
  end
end
return out
"""

# KEYS: procs
# ARGV: owner. This process has no client of the session any more.
UNLISTEN = """
redis.call('SREM', KEYS[1], ARGV[1])
return 0
"""

# KEYS: lock
# ARGV: lock value. Returns 1 if it was held (and is released now), else 0.
RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
"""

# KEYS: lock
# ARGV: lock value, lock expiry ms.  Returns 1 if still held (and extended), else 0.
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
"""

# KEYS: lock meta states versions deltas answers answered procs
# ARGV: 1 lock value, 2 fence, 3 base version ("*": any), 4 new revision, 5 ttl ms, 6 history bytes,
#       7 release ("1"/"0"), 8 lock expiry ms, 9 answer key, 10 answer json, 11 answers kept,
#       12 owners' channel prefix, 13 number of states n, 14 this owner, 15 token,
#       then n (path, json) pairs, then the deltas' JSON.
# Returns {"ok", version} | {"fenced", current fence} | {"moved", stored version}.
COMMIT = """
local meta = redis.call('HMGET', KEYS[2], 'fence', 'version', 'history')
if meta[1] ~= ARGV[2] then return {'fenced', meta[1] or ''} end
local version = tonumber(meta[2] or '-1')
if ARGV[3] ~= '*' and version ~= tonumber(ARGV[3]) then return {'moved', version} end
local i = 16
local n = tonumber(ARGV[13])
local others = {}
for _, owner in ipairs(redis.call('SMEMBERS', KEYS[8])) do
  if owner ~= ARGV[14] then others[#others + 1] = ARGV[12] .. owner end
end
if n > 0 then version = version + 1 end
for _ = 1, n do
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[i + 1])
  redis.call('HSET', KEYS[4], ARGV[i], version)
  i = i + 2
end
local size = tonumber(meta[3] or '0')
local limit = tonumber(ARGV[6])
while i <= #ARGV do
  local delta = ARGV[i]
  if #delta > limit then
    redis.call('DEL', KEYS[5])
    size = 0
  else
    redis.call('RPUSH', KEYS[5], delta)
    size = size + #delta
    while size > limit do
      local old = redis.call('LPOP', KEYS[5])
      if not old then size = 0 break end
      size = size - #old
    end
  end
  for _, channel in ipairs(others) do
    redis.call('PUBLISH', channel, ARGV[15] .. ' ' .. delta)
  end
  i = i + 1
end
redis.call('HSET', KEYS[2], 'rev', ARGV[4], 'version', version, 'history', size)
if ARGV[9] ~= '' then
  redis.call('HSET', KEYS[6], ARGV[9], ARGV[10])
  redis.call('RPUSH', KEYS[7], ARGV[9])
  while redis.call('LLEN', KEYS[7]) > tonumber(ARGV[11]) do
    redis.call('HDEL', KEYS[6], redis.call('LPOP', KEYS[7]))
  end
end
if ARGV[7] == '1' then
  if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
else
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[8])
end
for k = 2, 8 do redis.call('PEXPIRE', KEYS[k], ARGV[5]) end
return {'ok', version}
"""

# KEYS: meta states versions deltas procs
# ARGV: cached version (-1: none), client revision (-1: none), owner to add to procs ("": none),
#       ttl ms
# Returns {rev (-1: none stored), version, {path1, json1, ...} written after the cached version,
#          {delta json, ...} with rev > the client revision}.
READ = """
if ARGV[3] ~= '' then
  redis.call('SADD', KEYS[5], ARGV[3])
  redis.call('PEXPIRE', KEYS[5], ARGV[4])
end
local meta = redis.call('HMGET', KEYS[1], 'rev', 'version')
local rev = tonumber(meta[1] or '-1')
local version = tonumber(meta[2] or '-1')
local cached = tonumber(ARGV[1])
local states = {}
if version > cached then
  local revs = redis.call('HGETALL', KEYS[3])
  for i = 1, #revs, 2 do
    if cached < 0 or tonumber(revs[i + 1]) > cached then
      states[#states + 1] = revs[i]
      states[#states + 1] = redis.call('HGET', KEYS[2], revs[i]) or 'null'
    end
  end
end
local deltas = {}
local since = tonumber(ARGV[2])
if since >= 0 and since < rev then
  for _, delta in ipairs(redis.call('LRANGE', KEYS[4], 0, -1)) do
    if cjson.decode(delta)['rev'] > since then deltas[#deltas + 1] = delta end
  end
end
return {rev, version, states, deltas}
"""
