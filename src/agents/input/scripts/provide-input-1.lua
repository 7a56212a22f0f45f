--[[
  Gives input to a task waiting for it: only while the task is input_required, so the first
  answer to a request wins and any later one is refused (as a stale result is by its fence).
  The value joins the record's inputs (a JSON array, spliced as text: the value is never
  re-encoded), the task goes back to pending on no distributor, for the coordinator to place
  on any, and leaves <prefix>input_due. Its answered_key says which request the latest input
  answered, so that a graph resumes the interrupt it was meant for (src/agents/input/).
  inputs_n counts the inputs given: a caller that names the question it answers (ARGV[4], the
  number of inputs given before it was asked) is refused when the task now asks another one, so
  an answer read off a stale page cannot answer the next question.
  With ARGV[5], an answer that would make the task's record (every field, names and values,
  the value included) larger than that many bytes is refused: the task could no longer be sent
  to a distributor (a message has a body limit) and would end abandoned; it keeps waiting instead.

  KEYS[1]  the shard's set of open task ids (declared so that Redis Cluster routes the call)
  ARGV[1]  the shard's key prefix
  ARGV[2]  the task id
  ARGV[3]  the value, JSON
  ARGV[4]  the question answered: how many inputs had been given when it was asked, or "" (any)
  ARGV[5]  the most bytes the record may hold once given the value, or "" (no limit)

  Keys written: <prefix>task:<id>, <prefix>input_due.
  Returns 1 given; 0 unknown task; the task's status (a string) when it is not waiting for
  input; "other_question" when it waits on a later question than ARGV[4]; {"too_large", bytes}
  when the record would hold `bytes` bytes, over ARGV[5] (nothing written).
]]
local prefix = ARGV[1]
local id = ARGV[2]
local rec = prefix .. 'task:' .. id
local state = redis.call('HMGET', rec, 'status', 'inputs', 'input_key', 'inputs_n')
if not state[1] then return 0 end
if state[1] ~= 'input_required' then return state[1] end
local given = tonumber(state[4]) or 0
if ARGV[4] ~= '' and tonumber(ARGV[4]) ~= given then return 'other_question' end
if ARGV[5] ~= '' then
  local bytes = #ARGV[3] + 1
  for _, field in ipairs(redis.call('HKEYS', rec)) do
    bytes = bytes + #field + redis.call('HSTRLEN', rec, field)
  end
  if bytes > tonumber(ARGV[5]) then return {'too_large', bytes} end
end
local inputs = state[2]
if not inputs or inputs == '' or inputs == '[]' then
  inputs = '[' .. ARGV[3] .. ']'
else
  inputs = string.sub(inputs, 1, -2) .. ',' .. ARGV[3] .. ']'
end
redis.call('HSET', rec, 'status', 'pending', 'inputs', inputs, 'inputs_n', given + 1,
  'answered_key', state[3] or '')
redis.call('HDEL', rec, 'input_request', 'input_key', 'not_before')
redis.call('ZREM', prefix .. 'input_due', id)
return 1
