-- Take a call's lock and read its record, in one round trip.
--
-- KEYS[1] the call's lock       ARGV[1] this event's lock token
-- KEYS[2] the call's record     ARGV[2] the lock's time to live, ms
-- KEYS[3] the waiter count
-- KEYS[4] the live-index stamp (until when the call is listed, unix seconds)
--
-- Taken: {1, record or nil, stamp or nil}. Busy: {0, the lock's remaining ms};
-- the waiter is then counted, so that the holder's release wakes it up.
-- Taking a lock this token already holds succeeds (a retried call is harmless).
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return {1, redis.call('GET', KEYS[2]), redis.call('GET', KEYS[4])}
end
redis.call('INCR', KEYS[3])
redis.call('PEXPIRE', KEYS[3], ARGV[2])
return {0, redis.call('PTTL', KEYS[1])}
