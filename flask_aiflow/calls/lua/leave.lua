-- Write a call's record and release its lock, in one round trip.
--
-- KEYS[1] the call's lock         ARGV[1] the lock token, or '' to write without the lock
-- KEYS[2] the call's record       ARGV[2] 'save', 'delete' or 'release'
-- KEYS[3] the call's transcript   ARGV[3] the record text (save)
-- KEYS[4] the waiter count        ARGV[4] the record's time to live, seconds (save)
-- KEYS[5] the wake-up list        ARGV[5] turns kept in the transcript (save)
-- KEYS[6] the live-index stamp    ARGV[6] a new live-index stamp, or '' (save)
--                                 ARGV[7] the lock's time to live, ms
--                                 ARGV[8...] transcript turns to append (save)
--
-- Returns 1, or 0 without writing anything when the token no longer holds
-- the lock (it expired, and another event of the call may have taken it).
local locked = ARGV[1] ~= ''
if locked and redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
local mode = ARGV[2]
if mode == 'save' then
  local ttl = tonumber(ARGV[4])
  redis.call('SET', KEYS[2], ARGV[3], 'EX', ttl)
  if #ARGV >= 8 then
    redis.call('RPUSH', KEYS[3], unpack(ARGV, 8))
    redis.call('LTRIM', KEYS[3], -tonumber(ARGV[5]), -1)
  end
  redis.call('EXPIRE', KEYS[3], ttl)
  if ARGV[6] ~= '' then
    redis.call('SET', KEYS[6], ARGV[6], 'EX', 2 * ttl)
  end
elseif mode == 'delete' then
  redis.call('DEL', KEYS[2], KEYS[3], KEYS[6])
end
if locked then
  redis.call('DEL', KEYS[1])
  local waiting = tonumber(redis.call('GET', KEYS[4]) or '0')
  if waiting > 0 then
    -- wake every waiter: one takes the lock, the others count themselves again
    redis.call('DEL', KEYS[4])
    for _ = 1, waiting do
      redis.call('RPUSH', KEYS[5], '1')
    end
    redis.call('PEXPIRE', KEYS[5], ARGV[7])
  end
end
return 1
