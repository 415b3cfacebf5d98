//! The Lua scripts that make each shared limit one atomic step in Redis.

use std::sync::LazyLock;

use redis::Script;

/// A client's limits in one step, so that a request asks Redis once.
///
/// `max_concurrent`: the client's slots held by each replica, summed over the replicas still
/// alive (those whose key `ARGV[3]..name` exists; the others' counts are dropped).
/// `requests_per_minute`: GCRA on Redis's clock (so replicas' clocks do not matter).
/// Nothing changes unless both let the request go.
///
/// KEYS: the client's slot counts, the client's GCRA instant. ARGV: the maximum slots (0: no
/// such limit), this replica's name, the replica key prefix, the emission interval and the
/// tolerance in µs (interval 0: no rate limit). Returns 0 when the request may go (and takes
/// a slot when there is a maximum), -1 when every slot is taken, else the µs until the rate
/// lets one more go.
pub(super) static LIMITS: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local max = tonumber(ARGV[1])
if max > 0 then
  local total = 0
  local fields = redis.call('HGETALL', KEYS[1])
  for i = 1, #fields, 2 do
    if fields[i] == ARGV[2] or redis.call('EXISTS', ARGV[3] .. fields[i]) == 1 then
      total = total + tonumber(fields[i + 1])
    else
      redis.call('HDEL', KEYS[1], fields[i])
    end
  end
  if total >= max then return -1 end
end
local interval = tonumber(ARGV[4])
if interval > 0 then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
  local tolerance = tonumber(ARGV[5])
  local tat = tonumber(redis.call('GET', KEYS[2])) or now
  if tat < now then tat = now end
  local ahead = tat - now
  if ahead > tolerance then return ahead - tolerance end
  local next_tat = tat + interval
  redis.call('SET', KEYS[2], string.format('%.0f', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1000)
end
if max > 0 then redis.call('HINCRBY', KEYS[1], ARGV[2], 1) end
return 0
",
    )
});

/// Gives back one slot of this replica (KEYS[1]: the client's counts; ARGV[1]: the replica).
/// Loaded at each connection, so the writer sends it by hash in its pipelines.
pub(super) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n
",
    )
});

/// Brings a budget counter back after Redis was away (KEYS[1]): when Redis kept it, adds
/// what this replica spent meanwhile (ARGV[1]); when Redis lost it, sets it to the total this
/// replica knows (ARGV[2]), to which the others add what they spent meanwhile. ARGV[3]: its
/// expiry in ms.
pub(super) static RESTORE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 0
",
    )
});
