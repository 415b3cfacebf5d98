//! The Lua scripts that make each shared limit one atomic step in Redis.

use std::sync::LazyLock;

use redis::Script;

/// `requests_per_minute` as GCRA on Redis's clock (so replicas' clocks do not matter).
/// KEYS[1]: the client's instant; ARGV: the emission interval and the tolerance, in µs.
/// Returns 0 when the request may go, else how many µs until one may.
pub(super) static RATE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval = tonumber(ARGV[1])
local tolerance = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local ahead = tat - now
if ahead > tolerance then return ahead - tolerance end
local next_tat = tat + interval
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX', math.floor((next_tat - now) / 1000) + 1000)
return 0
",
    )
});

/// `max_concurrent`: the client's slots held by each replica, summed over the replicas still
/// alive (those whose key `ARGV[3]..name` exists; the others' counts are dropped).
/// KEYS[1]: the client's counts; ARGV: the maximum, this replica's name, the replica key
/// prefix. Returns 1 when a slot was taken, 0 when all are.
pub(super) static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local max = tonumber(ARGV[1])
local total = 0
local fields = redis.call('HGETALL', KEYS[1])
for i = 1, #fields, 2 do
  if fields[i] == ARGV[2] or redis.call('EXISTS', ARGV[3] .. fields[i]) == 1 then
    total = total + tonumber(fields[i + 1])
  else
    redis.call('HDEL', KEYS[1], fields[i])
  end
end
if total >= max then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
return 1
",
    )
});

/// Gives back one slot of this replica (KEYS[1]: the client's counts; ARGV[1]: the replica).
pub(super) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local n = redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
if n <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) end
return n
",
    )
});

/// Raises a counter to at least ARGV[1] (KEYS[1]; ARGV[2]: its expiry in ms), so that a
/// replica can bring back what a restarted Redis lost without counting anything twice.
pub(super) static RAISE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local current = tonumber(redis.call('GET', KEYS[1])) or 0
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 0
",
    )
});
