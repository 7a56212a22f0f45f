--[[
  The due times of shards (src/agents/schedule-controls/): releases delayed tasks whose run_at
  has come, and ends expired tasks that never started. Each coordinator calls it at the earliest
  due time it knows of and once a second besides; an id leaves its sorted set in the step that
  acts on it, so coordinators sweeping at once act on each id once. No task has a timer of its
  own anywhere.

  Shards come as key prefixes, as in submit-tasks-1.lua: on a single Redis one call carries
  every shard; on Redis Cluster the sweeper sends one shard per call, and every key the script
  touches (computed from the prefix) is in the slot of KEYS[1].

  KEYS[1]  the first shard's sorted set of delayed task ids (<prefix>delayed), so that a cluster
           routes the call
  ARGV[1]  now, epoch milliseconds
  ARGV[2]  now, ISO 8601 (completed_at of an expired task)
  ARGV[3]  retention of a terminal record, milliseconds
  ARGV[4]  the most ids taken from each sorted set of each shard in this call
  ARGV[5..] the shards' key prefixes (e.g. "triad:{t7}:")

  <prefix>delayed holds task ids scored by run_at, <prefix>expiring by expires_at (epoch ms).
  A delayed id that is due is released if its task is still pending on no distributor and
  waits on no dependency (a task still waiting is placed when its last dependency ends, by
  when its run_at has passed). An expiring id that is due ends its task abandoned with error
  "expired" if the task is pending and never started (attempts 0, or absent); a task that
  started runs on, and retries as usual. An expired task is ended as abandon-tasks-1.lua ends
  one (abandon_open, src/agents/ledger/scripts/open-index.lua): it leaves what that clears, and
  joins <prefix>ended if it has dependents, so that they are told. The expiring ids are swept
  first: a task whose run_at and expires_at are both due ends, and is not released (before, it
  was released and then expired in one call, and the coordinator was handed an ended task to place).

  Keys written: <prefix>delayed, <prefix>expiring; for an expired task <prefix>task:<id>,
  the open-task index, counted in <prefix>end-counts (open_end,
  src/agents/ledger/scripts/open-index.lua),
  <prefix>dist:<distributor>, <prefix>wait:<id>, <prefix>waiting, <prefix>ended.
  Returns { released ids, expired ids, the earliest due time left in these shards (epoch ms, as
  a string) or "", 1 when a sorted set had more due than ARGV[4] else 0 }.
]]
local now = tonumber(ARGV[1])
local limit = tonumber(ARGV[4])
local released, expired, more, next = {}, {}, 0, ''

for p = 5, #ARGV do
  local prefix = ARGV[p]
  local delayed = prefix .. 'delayed'
  local expiring = prefix .. 'expiring'

  -- Expired first: a task due both ways in this call ends, and is not released to be placed.
  local due = redis.call('ZRANGEBYSCORE', expiring, '-inf', now, 'LIMIT', 0, limit)
  if #due == limit then more = 1 end
  for _, id in ipairs(due) do
    redis.call('ZREM', expiring, id)
    local rec = prefix .. 'task:' .. id
    local state = redis.call('HMGET', rec, 'status', 'distributor', 'attempts')
    if state[1] == 'pending' and (tonumber(state[3]) or 0) == 0 then
      abandon_open(prefix, id, state[2], 'expired', ARGV[2], ARGV[3])
      expired[#expired + 1] = id
    end
  end

  due = redis.call('ZRANGEBYSCORE', delayed, '-inf', now, 'LIMIT', 0, limit)
  if #due == limit then more = 1 end
  for _, id in ipairs(due) do
    redis.call('ZREM', delayed, id)
    local state = redis.call('HMGET', prefix .. 'task:' .. id, 'status', 'distributor')
    if state[1] == 'pending' and (not state[2] or state[2] == '')
        and redis.call('EXISTS', prefix .. 'wait:' .. id) == 0 then
      released[#released + 1] = id
    end
  end

  for _, key in ipairs({delayed, expiring}) do
    local first = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    if first[2] and (next == '' or tonumber(first[2]) < tonumber(next)) then next = first[2] end
  end
end
return {released, expired, next, more}
