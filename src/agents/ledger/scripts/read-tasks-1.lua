--[[
  Reads task records.

  Grouped by shard (each-group.lua's read_each walks the groups; every key computed from a group's prefix).

  KEYS[1]  the first group's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1..] groups: the shard's key prefix, the number of tasks n, then n task ids

  Returns one flat HGETALL array per task, in order (empty when there is no such task); a task
  still waiting on dependencies gets one more pair, waiting_on and their ids as a JSON array;
  a task with a run_at one more, delayed_until and its score in <prefix>delayed (epoch ms), ""
  when it is in no delayed index (released by a sweep, made ready out of it, started): whoever
  reads it back decides by the index whether the sweep will place it, not by its own clock.
]]
return read_each(function(prefix, id)
  local flat = redis.call('HGETALL', prefix .. 'task:' .. id)
  local waiting = redis.call('SMEMBERS', prefix .. 'wait:' .. id)
  if #waiting > 0 then
    flat[#flat + 1] = 'waiting_on'
    flat[#flat + 1] = cjson.encode(waiting)
  end
  for k = 1, #flat, 2 do
    if flat[k] == 'run_at' then
      flat[#flat + 1] = 'delayed_until'
      flat[#flat + 1] = redis.call('ZSCORE', prefix .. 'delayed', id) or ''
      break
    end
  end
  return flat
end)
